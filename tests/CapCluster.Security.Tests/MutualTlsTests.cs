using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Security.Tests.Infrastructure;

namespace CapCluster.Security.Tests;

/// <summary>
/// A real TLS 1.3 handshake over loopback with SslStream: the server certificate and the holder certificate
/// read back from a .cap file must work as they are, which is what the controller and clients rely on.
/// </summary>
public sealed class MutualTlsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Handshake_WithHolderCertificateFromCapFile_IsAcceptedAndIdentified()
    {
        using var folder = new TempFolder();
        using var ca = CertificateAuthority.CreateEphemeral();
        using var server = ca.IssueServerCertificate(["localhost"], TimeSpan.FromDays(1));
        var registry = CapabilityRegistry.LoadOrCreate(folder.Path);
        var issued = registry.Issue(ca, CapabilityInterfaces.Task, [new("localhost", 1)]);
        issued.File.Write(folder.File("task.cap"));
        var capFile = CapabilityFile.Read(folder.File("task.cap"));

        CertificateCheck? serverSaw = null;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var serverSide = Task.Run(async () =>
        {
            using var socket = await listener.AcceptTcpClientAsync();
            await using var tls = new SslStream(socket.GetStream());
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = server,
                ClientCertificateRequired = true,
                EnabledSslProtocols = SslProtocols.Tls13,
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    serverSaw = ca.ValidateClientCertificate(certificate as X509Certificate2);
                    return serverSaw.IsValid;
                },
            });
            await tls.WriteAsync(new byte[] { 42 });
        });

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Timeout);
        await using var clientTls = new SslStream(client.GetStream());
        await clientTls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = SslProtocols.Tls13,
            ClientCertificates = [capFile.HolderCertificate],
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is X509Certificate2 presented && PinnedToCa(presented, capFile),
        }).WaitAsync(Timeout);
        var buffer = new byte[1];
        await clientTls.ReadExactlyAsync(buffer).AsTask().WaitAsync(Timeout);
        await serverSide.WaitAsync(Timeout);

        Assert.Equal(42, buffer[0]);
        Assert.NotNull(serverSaw);
        Assert.True(serverSaw.IsValid, serverSaw.Reason);
        Assert.Equal(issued.Record.Id, serverSaw.CapabilityId);
        Assert.True(registry.Check(serverSaw.CapabilityId!, serverSaw.Interface!, "Submit", capFile.Url.Secret).Allowed);
    }

    private static bool PinnedToCa(X509Certificate2 serverCertificate, CapabilityFile capFile)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(capFile.CaCertificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(serverCertificate)
            && CapabilityFingerprint.Of(chain.ChainElements[^1].Certificate) == capFile.Url.CaFingerprint;
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>
/// Every way in that must be refused: each gets a clear status with the gate's reason,
/// an audit record saying why, and no engine's queue sees the call.
/// </summary>
public sealed class GateTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly ClusterDirectory cluster = new();
    private ControllerState state = null!;
    private CapabilityFile multiEngine = null!;
    private MultiEngineClient client = null!;
    private string expiredCap = null!;

    public async Task InitializeAsync()
    {
        // An expired capability, issued by the controller's own CA before it starts.
        var paths = cluster.Paths();
        paths.EnsureCreated();
        using (var authority = CertificateAuthority.LoadOrCreate(paths.SecurityFolder))
        {
            var registry = CapabilityRegistry.LoadOrCreate(paths.SecurityFolder);
            var issued = registry.Issue(authority, CapabilityInterfaces.MultiEngine, [new CapabilityLocation("127.0.0.1", 1)], "expired", DateTimeOffset.UtcNow.AddMinutes(-1));
            expiredCap = Path.Combine(cluster.BaseFolder, "expired.cap");
            issued.File.Write(expiredCap);
        }

        await cluster.StartControllerAsync();
        state = ControllerState.TryRead(paths.SecurityFolder)!;
        multiEngine = CapabilityFile.Read(cluster.CapFile(CapabilityInterfaces.MultiEngine));
        cluster.Start("capengine");
        client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        await ClusterDirectory.WaitForEnginesAsync(client, 1, Timeout);
    }

    public async Task DisposeAsync()
    {
        await client.DisposeAsync();
        await cluster.DisposeAsync();
    }

    [Theory]
    [InlineData("engine")]
    [InlineData("client")]
    [InlineData("data")]
    public async Task Tls12Client_IsRefusedAtTheHandshake_OnEveryPort(string which)
    {
        // Under TLS 1.2 a client certificate, which names the capability id, would travel in clear.
        var port = which switch { "engine" => state.EnginePort, "client" => state.ClientPort, _ => state.DataPort };
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Timeout);
        await using var ssl = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        var options = new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12,
            ClientCertificates = [multiEngine.HolderCertificate],
        };

        var refused = await Record.ExceptionAsync(() => ssl.AuthenticateAsClientAsync(options).WaitAsync(Timeout));
        Assert.True(refused is System.Security.Authentication.AuthenticationException or IOException, $"a TLS 1.2 handshake on the {which} port ended with {refused?.GetType().Name ?? "success"}");
        Assert.False(ssl.IsAuthenticated);
    }

    [Fact]
    public async Task NoClientCertificate_IsUnauthenticated()
    {
        await AssertRefusedAsync(null, multiEngine.Url.Secret, StatusCode.Unauthenticated, "no client certificate");
    }

    [Fact]
    public async Task CertificateFromAnotherCa_IsUnauthenticated()
    {
        using var other = CertificateAuthority.CreateEphemeral();
        using var foreign = other.IssueHolderCertificate(multiEngine.CapabilityId, CapabilityInterfaces.MultiEngine, null);
        await AssertRefusedAsync(foreign, multiEngine.Url.Secret, StatusCode.Unauthenticated, "not issued by this controller");
    }

    [Fact]
    public async Task SelfSignedLookAlike_WithTheSameSubjectAndExtensions_IsUnauthenticated()
    {
        var genuine = multiEngine.HolderCertificate;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(genuine.SubjectName, key, HashAlgorithmName.SHA256);
        foreach (var extension in genuine.Extensions.Where(e => e.Oid?.Value is not ("2.5.29.35" or "2.5.29.14")))
        {
            request.CertificateExtensions.Add(extension);
        }

        using var lookAlike = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using var usable = X509CertificateLoader.LoadPkcs12(lookAlike.Export(X509ContentType.Pkcs12), null);
        await AssertRefusedAsync(usable, multiEngine.Url.Secret, StatusCode.Unauthenticated, "not issued by this controller");
    }

    [Fact]
    public async Task CertificateFromALookAlikeCa_WithTheSameName_IsUnauthenticated()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest(multiEngine.CaCertificate.SubjectName, caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var impostorCa = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));

        var genuine = multiEngine.HolderCertificate;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(genuine.SubjectName, key, HashAlgorithmName.SHA256);
        foreach (var extension in genuine.Extensions.Where(e => e.Oid?.Value is not ("2.5.29.35" or "2.5.29.14")))
        {
            request.CertificateExtensions.Add(extension);
        }

        using var forged = request.Create(impostorCa, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(16));
        using var usable = X509CertificateLoader.LoadPkcs12(forged.CopyWithPrivateKey(key).Export(X509ContentType.Pkcs12), null);
        await AssertRefusedAsync(usable, multiEngine.Url.Secret, StatusCode.Unauthenticated, "not issued by this controller");
    }

    [Fact]
    public async Task EngineCapOnMultiEngine_IsPermissionDenied()
    {
        var engine = CapabilityFile.Read(cluster.CapFile(CapabilityInterfaces.Engine));
        await AssertRefusedAsync(engine.HolderCertificate, engine.Url.Secret, StatusCode.PermissionDenied, "engine capability");
    }

    [Fact]
    public async Task TaskCapOnMultiEngine_IsPermissionDenied()
    {
        var task = CapabilityFile.Read(cluster.CapFile(CapabilityInterfaces.Task));
        await AssertRefusedAsync(task.HolderCertificate, task.Url.Secret, StatusCode.PermissionDenied, "task capability");
    }

    [Fact]
    public async Task RightCertificateWithWrongSecret_IsUnauthenticated()
    {
        await AssertRefusedAsync(multiEngine.HolderCertificate, CapabilitySecret.Create(), StatusCode.Unauthenticated, "secret does not match");
    }

    [Fact]
    public async Task RightCertificateWithoutSecret_IsUnauthenticated()
    {
        await AssertRefusedAsync(multiEngine.HolderCertificate, null, StatusCode.Unauthenticated, "no capability secret");
    }

    [Fact]
    public async Task EditedSecretInCapUrl_IsRefusedByTheController()
    {
        var text = await File.ReadAllTextAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine));
        var edited = Path.Combine(cluster.BaseFolder, "edited-secret.cap");
        CapCluster.Tests.Shared.PrivateFile.Write(edited, text.Replace(multiEngine.Url.Secret, CapabilitySecret.Create(), StringComparison.Ordinal));

        var error = await Assert.ThrowsAsync<CapabilityRefusedException>(() => MultiEngineClient.ConnectAsync(edited).WaitAsync(Timeout));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal(CapCluster.Protocol.V1.RefusalKind.Capability, error.Kind);
        Assert.Contains("secret does not match", error.Reason);
        Assert.Contains(edited, error.Message);
        await AssertAuditedAndUntouchedAsync("secret does not match");
    }

    [Fact]
    public async Task ExpiredHolderCertificate_IsRefusedSayingItExpired()
    {
        var expired = CapabilityFile.Read(expiredCap);
        await AssertRefusedAsync(expired.HolderCertificate, expired.Url.Secret, StatusCode.Unauthenticated, "expired");
    }

    [Fact]
    public async Task AcceptedConnection_IsAuditedOnce_AndTheChainIsIntact()
    {
        await client.PingAsync().WaitAsync(Timeout);
        await client.PingAsync().WaitAsync(Timeout);

        var records = AuditLog.ReadAll(cluster.Paths().AuditLogFile);
        Assert.Contains(records, r => r.Outcome == "accepted" && r.CapabilityId == multiEngine.CapabilityId);
        Assert.True(AuditLog.Verify(cluster.Paths().AuditLogFile, cluster.Paths().SecurityFolder).IsIntact);
    }

    private async Task AssertRefusedAsync(X509Certificate2? certificate, string? secret, StatusCode expected, string reason)
    {
        using var channel = new GrpcChannel(
            [new DnsEndPoint("127.0.0.1", state.ClientPort)],
            new GrpcChannelOptions
            {
                ClientCertificate = certificate,
                ValidateServerCertificate = ControllerCertificateValidator.For(multiEngine.CaCertificate),
                DefaultHeaders = secret is null ? [] : [CapabilityMetadata.For(secret)],
            });

        var error = await Assert.ThrowsAsync<RpcException>(
            () => channel.UnaryAsync(CapClusterMethods.Ping, new PingRequest(), new CallOptions(deadline: DateTime.UtcNow.Add(Timeout))));

        Assert.Equal(expected, error.StatusCode);
        Assert.Contains(reason, error.Status.Detail, StringComparison.OrdinalIgnoreCase);

        // The same reason travels as a typed refusal (the capcluster-refusal-bin trailer), which clients read.
        var refusal = Refusals.Read(error);
        Assert.NotNull(refusal);
        Assert.NotEqual(RefusalKind.Unspecified, refusal.Kind);
        Assert.Contains(reason, refusal.Reason, StringComparison.OrdinalIgnoreCase);
        await AssertAuditedAndUntouchedAsync(reason);
    }

    private async Task AssertAuditedAndUntouchedAsync(string reason)
    {
        var refused = AuditLog.ReadAll(cluster.Paths().AuditLogFile)
            .Where(r => r.Outcome == "refused" && r.Reason is not null && r.Reason.Contains(reason, StringComparison.OrdinalIgnoreCase))
            .ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, r =>
        {
            Assert.Equal(CapClusterMethods.MultiEngineService, r.Service);
            Assert.False(string.IsNullOrEmpty(r.RemoteAddress));
        });

        var engines = await client.GetEnginesAsync().WaitAsync(Timeout);
        Assert.All(engines, e => Assert.Equal(0, e.Completed));
        Assert.All(engines, e => Assert.Equal(0, e.QueueLength));
    }
}

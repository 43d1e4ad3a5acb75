using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CapCluster.Protocol.Internal;

namespace CapCluster.Protocol.Lanes;

public sealed partial class LaneConnection
{
    private static readonly SslApplicationProtocol LaneProtocol = new(LanePreamble.ApplicationProtocol);

    /// <summary>
    /// Joins a lane: connects to the controller's data port, sends the preamble, waits until the
    /// controller has spliced the other end in, then runs TLS 1.3 with that end.
    /// </summary>
    /// <exception cref="LaneException">The data port cannot be reached, the controller refused the lane, or the other end is not the one named.</exception>
    public static async Task<LaneConnection> ConnectAsync(LaneOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = await ConnectSocketAsync(options, timeout.Token).ConfigureAwait(false);
        var network = new LaneSocketStream(socket);
        try
        {
            await network.WriteAsync(LanePreamble.Create(options.LaneId, options.Role), timeout.Token).ConfigureAwait(false);
            await ReadAnswerAsync(network, options, timeout.Token).ConfigureAwait(false);
            var ssl = new SslStream(network, leaveInnerStreamOpen: false);
            try
            {
                await HandshakeAsync(ssl, options, timeout.Token).ConfigureAwait(false);
            }
            catch
            {
                await ssl.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            return new LaneConnection(ssl, options.Name);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            await network.DisposeAsync().ConfigureAwait(false);
            throw new LaneException($"{options.Name} was not set up within {options.ConnectTimeout.TotalSeconds:0.#} s (the other end never joined)", e);
        }
        catch (Exception e) when (e is IOException or AuthenticationException && e is not LaneException)
        {
            await network.DisposeAsync().ConfigureAwait(false);
            throw new LaneException($"{options.Name} failed: {e.Message}", e);
        }
        catch
        {
            await network.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<Socket> ConnectSocketAsync(LaneOptions options, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var endpoint in options.Endpoints)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                failures.Add($"{ChannelConnector.Format(endpoint)}: {e.SocketErrorCode}");
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw new LaneException($"{options.Name}: cannot reach the controller's data port ({string.Join("; ", failures)})");
    }

    private static async Task ReadAnswerAsync(Stream network, LaneOptions options, CancellationToken cancellationToken)
    {
        var answer = new byte[1];
        if (await network.ReadAtLeastAsync(answer, 1, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) == 0)
        {
            throw new LaneException($"{options.Name}: the controller closed the connection without an answer");
        }

        if (answer[0] == LanePreamble.Spliced)
        {
            return;
        }

        var reason = new byte[1024];
        var length = await network.ReadAtLeastAsync(reason, reason.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        throw new LaneException($"{options.Name} was refused by the controller: {Encoding.UTF8.GetString(reason, 0, length)}");
    }

    private static async Task HandshakeAsync(SslStream ssl, LaneOptions options, CancellationToken cancellationToken)
    {
        var rejected = false;
        bool Validate(X509Certificate? certificate)
        {
            var ok = certificate is X509Certificate2 peer && options.AcceptPeer(peer);
            rejected = !ok;
            return ok;
        }

        try
        {
            if (options.Role == LaneRole.Engine)
            {
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = options.Certificate,
                    ClientCertificateRequired = true,
                    EnabledSslProtocols = SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    ApplicationProtocols = [LaneProtocol],
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => Validate(certificate),
                }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "capcluster-lane",
                    EnabledSslProtocols = SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    ApplicationProtocols = [LaneProtocol],
                    LocalCertificateSelectionCallback = (_, _, _, _, _) => options.Certificate,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => Validate(certificate),
                }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (AuthenticationException e) when (rejected)
        {
            throw new LaneException($"{options.Name}: the other end presented a certificate other than the one the controller named", e);
        }
    }
}

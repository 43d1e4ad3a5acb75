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
    /// controller has spliced the other end in, then runs TLS 1.3 with that end. All of it with
    /// blocking calls on a thread of its own (see the class remarks); the timeout and the token close the socket.
    /// </summary>
    /// <exception cref="LaneException">The data port cannot be reached, the controller refused the lane, the other end never joined, or it is not the one named.</exception>
    public static Task<LaneConnection> ConnectAsync(LaneOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Task.Factory.StartNew(() => Connect(options, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private static LaneConnection Connect(LaneOptions options, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var endpoint in options.Endpoints)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var expired = false;
            using var timer = new Timer(_ => { expired = true; socket.Dispose(); }, null, options.ConnectTimeout, Timeout.InfiniteTimeSpan);
            using var cancel = cancellationToken.Register(socket.Dispose);
            try
            {
                socket.Connect(endpoint);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException && !cancellationToken.IsCancellationRequested && !expired)
            {
                socket.Dispose();
                failures.Add($"{ChannelConnector.Format(endpoint)}: {(e as SocketException)?.SocketErrorCode.ToString() ?? e.Message}");
                continue;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                socket.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
                throw NotSetUp(options, e);
            }

            var network = new LaneSocketStream(socket);
            var ssl = new SslStream(network, leaveInnerStreamOpen: false);
            try
            {
                network.Write(LanePreamble.Create(options.LaneId, options.Role));
                ReadAnswer(network, options);
                Handshake(ssl, options);
                timer.Change(Timeout.Infinite, Timeout.Infinite);
                return new LaneConnection(ssl, options.Name);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or AuthenticationException)
            {
                ssl.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
                throw e is LaneException ? e : expired ? NotSetUp(options, e) : new LaneException($"{options.Name} failed: {e.Message}", e);
            }
        }

        throw new LaneException($"{options.Name}: cannot reach the controller's data port ({string.Join("; ", failures)})");
    }

    private static LaneException NotSetUp(LaneOptions options, Exception e) =>
        new($"{options.Name} was not set up within {options.ConnectTimeout.TotalSeconds:0.#} s (the other end never joined)", e);

    private static void ReadAnswer(Stream network, LaneOptions options)
    {
        Span<byte> answer = stackalloc byte[1];
        if (network.ReadAtLeast(answer, 1, throwOnEndOfStream: false) == 0)
        {
            throw new LaneException($"{options.Name}: the controller closed the connection without an answer");
        }

        if (answer[0] == LanePreamble.Spliced)
        {
            return;
        }

        var reason = new byte[1024];
        var length = network.ReadAtLeast(reason, reason.Length, throwOnEndOfStream: false);
        throw new LaneException($"{options.Name} was refused by the controller: {Encoding.UTF8.GetString(reason, 0, length)}");
    }

    private static void Handshake(SslStream ssl, LaneOptions options)
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
                ssl.AuthenticateAsServer(new SslServerAuthenticationOptions
                {
                    ServerCertificate = options.Certificate,
                    ClientCertificateRequired = true,
                    EnabledSslProtocols = SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    ApplicationProtocols = [LaneProtocol],
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => Validate(certificate),
                });
            }
            else
            {
                ssl.AuthenticateAsClient(new SslClientAuthenticationOptions
                {
                    TargetHost = "capcluster-lane",
                    EnabledSslProtocols = SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    ApplicationProtocols = [LaneProtocol],
                    LocalCertificateSelectionCallback = (_, _, _, _, _) => options.Certificate,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => Validate(certificate),
                });
            }
        }
        catch (AuthenticationException e) when (rejected)
        {
            throw new LaneException($"{options.Name}: the other end presented a certificate other than the one the controller named", e);
        }
    }
}

using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace CapCluster.Protocol.Internal;

/// <summary>
/// SocketsHttpHandler's ConnectCallback: tries each endpoint in order, does the TLS handshake itself
/// (SNI and validation per endpoint, ALPN h2) so every failure gets a message the user understands.
/// The handler then speaks HTTP/2 with prior knowledge over the returned stream.
/// </summary>
internal sealed class ChannelConnector(IReadOnlyList<DnsEndPoint> endpoints, GrpcChannelOptions options, ChannelTarget target, ILogger logger)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        List<string>? failures = null;
        ConnectFailureException? worst = null;
        foreach (var endpoint in endpoints)
        {
            try
            {
                return await ConnectOneAsync(endpoint, cancellationToken).ConfigureAwait(false);
            }
            catch (ConnectFailureException ex)
            {
                GrpcLog.ConnectFailed(logger, Format(endpoint), ex.Message);
                (failures ??= []).Add(ex.Message);

                // A server that answered but was wrong says more than one that did not answer.
                if (worst is null || (worst.InnerException is SocketException && ex.InnerException is not SocketException))
                {
                    worst = ex;
                }
            }
        }

        if (failures is null || worst is null)
        {
            throw new ConnectFailureException(new Status(StatusCode.Unavailable, "no endpoint to connect to"));
        }

        throw failures.Count == 1
            ? worst
            : new ConnectFailureException(new Status(StatusCode.Unavailable, string.Join("; ", failures)), worst);
    }

    internal static string Format(DnsEndPoint endpoint) =>
        (endpoint.Host.Contains(':', StringComparison.Ordinal) ? "[" + endpoint.Host + "]" : endpoint.Host) + ":" + endpoint.Port;

    private async Task<Stream> ConnectOneAsync(DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        var name = Format(endpoint);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new ConnectFailureException(new Status(StatusCode.Unavailable, $"cannot reach {name} ({Describe(ex)})"), ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new ConnectFailureException(
                new Status(StatusCode.Unavailable, $"cannot reach {name} (no answer within {options.ConnectTimeout.TotalSeconds:0.#} s)"), ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        var rejected = false;
        var client = options.ClientCertificate;
        var sslOptions = new SslClientAuthenticationOptions
        {
            TargetHost = endpoint.Host,
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                var ok = certificate is X509Certificate2 server && options.ValidateServerCertificate(server, chain, errors);
                rejected = !ok;
                return ok;
            },
            LocalCertificateSelectionCallback = client is null ? null : (_, _, _, _, _) => client,
        };
        try
        {
            await ssl.AuthenticateAsClientAsync(sslOptions, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (rejected)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new ConnectFailureException(new Status(
                StatusCode.Unavailable,
                $"the server at {name} is not the controller named in the capability (its certificate does not match the pinned CA)"), ex);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            var reason = ex is OperationCanceledException ? $"no answer within {options.ConnectTimeout.TotalSeconds:0.#} s" : ex.Message;
            throw new ConnectFailureException(new Status(StatusCode.Unavailable, $"the TLS handshake with {name} failed ({reason})"), ex);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (ssl.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new ConnectFailureException(new Status(StatusCode.Unavailable, $"the server at {name} does not speak HTTP/2 (is it a gRPC server?)"));
        }

        GrpcLog.Connected(logger, name, ssl.SslProtocol.ToString());
        return new WatchedStream(ssl, name, target);
    }

    private static string Describe(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
        SocketError.TimedOut => "timed out",
        SocketError.NetworkUnreachable or SocketError.HostUnreachable => "no route to host",
        _ => ex.Message,
    };
}

using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Protocol.Lanes;
using Google.Protobuf;

namespace CapCluster.Protocol.StreamLanes;

/// <summary>
/// Opens the two ends of a <see cref="StreamLane{TSend, TReceive}"/>: the caller's, through a
/// <see cref="GrpcChannel"/> (whose client certificate and server check it reuses), and the controller's,
/// on a data-port connection whose preamble named a granted stream lane. A caller on the controller's host joins
/// on its local socket when the kernel says the socket's owner has the caller's uid; the controller, having let
/// only its own uid join there, answers <see cref="LanePreamble.Local"/>, and the lane runs without TLS.
/// </summary>
public static class StreamLaneEnds
{
    /// <summary>How long connecting, the controller's answer and the TLS handshake may take together.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private static readonly SslApplicationProtocol StreamProtocol = new("capcluster-stream/1");

    /// <summary>
    /// Whether a stream joined on <paramref name="socket"/> runs without TLS: it came on the controller's local socket
    /// (a Unix socket), where the controller answers <see cref="LanePreamble.Local"/> and <see cref="Accept"/> runs none.
    /// </summary>
    public static bool IsLocal(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return socket.AddressFamily == AddressFamily.Unix;
    }

    /// <summary>
    /// The controller's end: runs TLS 1.3 as the server on <paramref name="socket"/> (blocking, on the calling
    /// thread), accepting only a client certificate that <paramref name="acceptClient"/> accepts; on a Unix socket
    /// (the local socket, answered <see cref="LanePreamble.Local"/>), no TLS.
    /// </summary>
    /// <exception cref="LaneException">The handshake failed, took longer than <see cref="ConnectTimeout"/>, or the client presented another certificate.</exception>
    public static StreamLane<TResp, TReq> Accept<TReq, TResp>(
        Method<TReq, TResp> method,
        Socket socket,
        X509Certificate2 serverCertificate,
        Func<X509Certificate2, bool> acceptClient,
        int maxMessageSize,
        string name)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(socket);
        var network = new LaneSocketStream(socket);
        network.NeverBlockWrites(name);
        Stream stream = IsLocal(socket) ? network : Secure(network, socket, serverCertificate, acceptClient, name);
        return new StreamLane<TResp, TReq>(stream, new MessageParser<TReq>(() => new TReq()), maxMessageSize, maxMessageSize, name, isCaller: false, peerClosed: null, CancellationToken.None);
    }

    /// <summary>TLS 1.3 as the server on <paramref name="network"/>, within <see cref="ConnectTimeout"/>; see <see cref="Accept"/>.</summary>
    private static SslStream Secure(LaneSocketStream network, Socket socket, X509Certificate2 serverCertificate, Func<X509Certificate2, bool> acceptClient, string name)
    {
        var ssl = new SslStream(network, leaveInnerStreamOpen: false);
        try
        {
            socket.ReceiveTimeout = socket.SendTimeout = (int)ConnectTimeout.TotalMilliseconds;
            LaneTls.AuthenticateAsServer(ssl, serverCertificate, StreamProtocol, acceptClient,
                $"{name}: the client presented a certificate other than the one the stream was granted to");
            socket.ReceiveTimeout = socket.SendTimeout = 0;
            return ssl;
        }
        catch (Exception e) when (e is LaneException or AuthenticationException or IOException or SocketException or ObjectDisposedException)
        {
            ssl.Dispose();
            throw e as LaneException ?? new LaneException($"{name}: the TLS handshake failed: {e.Message}", e);
        }
    }

    /// <summary>The caller's end, as a duplex call; see <see cref="GrpcChannel.DuplexStreamingOnLaneAsync"/>.</summary>
    internal static Task<AsyncDuplexStreamingCall<TReq, TResp>> ConnectAsync<TReq, TResp>(
        GrpcChannelOptions options,
        Method<TReq, TResp> method,
        IReadOnlyList<DnsEndPoint> dataPort,
        byte[] laneId,
        string? localSocket,
        CancellationToken cancellationToken)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        var name = $"the stream lane for {method.FullName}";
        return Task.Factory.StartNew(
            () => LaneDialer.Dial(dataPort, localSocket, laneId, LaneRole.Stream, ConnectTimeout, name, (network, local) =>
            {
                network.NeverBlockWrites(name);
                Stream stream = network;
                if (!local)
                {
                    var ssl = new SslStream(network, leaveInnerStreamOpen: false);
                    try
                    {
                        LaneTls.AuthenticateAsClient(ssl, dataPort[0].Host, options.ClientCertificate, StreamProtocol, options.ValidateServerCertificate,
                            $"{name}: the data port is not the controller's (its certificate does not match the pinned CA)");
                    }
                    catch
                    {
                        ssl.Dispose();
                        throw;
                    }

                    stream = ssl;
                }

                var lane = new StreamLane<TReq, TResp>(stream, new MessageParser<TResp>(() => new TResp()), options.MaxReceiveMessageSize, options.MaxSendMessageSize, name, isCaller: true, network.PeerHasClosed, cancellationToken);
                return new AsyncDuplexStreamingCall<TReq, TResp>(lane, lane, Task.FromResult(new Metadata()), lane.GetStatus, static () => [], lane.Dispose);
            }, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }
}

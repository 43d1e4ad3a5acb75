using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using CapCluster.Protocol.DataLanes;
using CapCluster.Protocol.Internal;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// Connects to the controller for a lane the controller granted: tries its local socket (a client or an engine on its
/// host), then the data port at each endpoint in order; sends the preamble, reads the answer, then lets the caller set
/// up the connection (TLS, or nothing on a local lane). On the local socket an engine's answer comes with the client's
/// own connection, which the engine then uses (see lane.proto). A client's end of a data lane and a stream lane use
/// the local socket only when the kernel says its owner has this process's own uid: a stranger holding that name gets
/// nothing. All of it with blocking calls on the calling thread (see <see cref="LaneConnection"/>); the timeout covers
/// every step and, like the token, works by closing the sockets.
/// </summary>
internal static class LaneDialer
{
    /// <summary>The connection, once <paramref name="setUp"/> has made it ready.</summary>
    /// <param name="endpoints">The data port at each host the capability names.</param>
    /// <param name="handoff">The controller's local socket, tried first; null for none.</param>
    /// <param name="laneId">The lane the controller granted.</param>
    /// <param name="role">What this connection is.</param>
    /// <param name="timeout">How long connecting, the answer and <paramref name="setUp"/> may take together.</param>
    /// <param name="name">How errors name the lane.</param>
    /// <param name="setUp">
    /// Sets up the accepted connection and returns what uses it; its second argument is true when the controller
    /// answered that both ends of a data lane joined on its local socket (<see cref="LanePreamble.Local"/>): no TLS.
    /// </param>
    /// <param name="cancellationToken">Closes the socket.</param>
    /// <exception cref="LaneException">The controller cannot be reached, it refused, or the set-up failed or took too long.</exception>
    public static T Dial<T>(
        IReadOnlyList<DnsEndPoint> endpoints,
        string? handoff,
        byte[] laneId,
        LaneRole role,
        TimeSpan timeout,
        string name,
        Func<LaneSocketStream, bool, T> setUp,
        CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        IEnumerable<EndPoint> routes = endpoints;
        if (handoff is not null && SocketPassing.IsAvailable)
        {
            routes = routes.Prepend(new UnixDomainSocketEndPoint("\0" + handoff));
        }

        foreach (var route in routes)
        {
            var local = route is UnixDomainSocketEndPoint;
            var socket = local ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            Socket? handed = null;
            var expired = false;
            void CloseAll()
            {
                Close(socket);
                Close(Volatile.Read(ref handed));
            }

            using var timer = new Timer(_ => { expired = true; CloseAll(); }, null, timeout, Timeout.InfiniteTimeSpan);
            using var cancel = cancellationToken.Register(CloseAll);
            try
            {
                socket.Connect(route);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException && !cancellationToken.IsCancellationRequested && !expired)
            {
                // Not on the controller's host (or in another network namespace): the data port serves.
                socket.Dispose();
                failures.Add($"{(route is DnsEndPoint endpoint ? ChannelConnector.Format(endpoint) : "the local socket")}: {(e as SocketException)?.SocketErrorCode.ToString() ?? e.Message}");
                continue;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                socket.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
                throw NotSetUp(name, role, timeout, e);
            }

            if (local && role is LaneRole.Client or LaneRole.Stream && Descriptors.PeerCredentials(socket)?.Uid != Descriptors.EffectiveUserId)
            {
                socket.Dispose();
                failures.Add($"the local socket: its owner is not this process's user (uid {Descriptors.EffectiveUserId})");
                continue;
            }

            LaneSocketStream? network = null;
            try
            {
                socket.Send(LanePreamble.Create(laneId, role));
                byte answer;
                if (local && role == LaneRole.Engine)
                {
                    Volatile.Write(ref handed, SocketPassing.Receive(socket, out answer));
                    CheckAnswer(answer, socket, name);
                    if (expired || handed is null)
                    {
                        throw expired ? new IOException("timed out") : new LaneException($"{name}: the controller accepted the lane but did not hand over the connection");
                    }

                    socket.Dispose();
                    network = new LaneSocketStream(handed);
                }
                else
                {
                    answer = ReceiveAnswer(socket, name);
                    CheckAnswer(answer, socket, name);
                    network = new LaneSocketStream(socket);
                }

                var ready = setUp(network, local && answer == LanePreamble.Local);
                timer.Change(Timeout.Infinite, Timeout.Infinite);
                return ready;
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or AuthenticationException)
            {
                network?.Dispose();
                CloseAll();
                cancellationToken.ThrowIfCancellationRequested();
                // Expiry shuts the socket down, so a read it cut short may look like the controller closing: say it timed out.
                throw expired ? NotSetUp(name, role, timeout, e) : e as LaneException ?? new LaneException($"{name} failed: {e.Message}", e);
            }
        }

        throw new LaneException($"{name}: cannot reach the controller's data port ({string.Join("; ", failures)})");
    }

    private static LaneException NotSetUp(string name, LaneRole role, TimeSpan timeout, Exception e) =>
        new($"{name} was not set up within {timeout.TotalSeconds:0.#} s{(role == LaneRole.Stream ? "" : " (the other end never joined)")}", e);

    private static byte ReceiveAnswer(Socket socket, string name)
    {
        Span<byte> answer = stackalloc byte[1];
        return socket.Receive(answer) == 1
            ? answer[0]
            : throw new LaneException($"{name}: the controller closed the connection without an answer");
    }

    /// <summary>Returns when the controller accepted; else reads its reason (until it closes) and throws it.</summary>
    private static void CheckAnswer(byte answer, Socket socket, string name)
    {
        if (answer is LanePreamble.Spliced or LanePreamble.Local)
        {
            return;
        }

        var reason = new byte[1024];
        var length = 0;
        for (int read; length < reason.Length && (read = socket.Receive(reason.AsSpan(length))) > 0;)
        {
            length += read;
        }

        throw new LaneException($"{name} was refused by the controller: {Encoding.UTF8.GetString(reason, 0, length)}");
    }

    // Shutting down first wakes a call blocked on the socket (a recvmsg the runtime does not know of included).
    private static void Close(Socket? socket)
    {
        if (socket is null)
        {
            return;
        }

        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Not connected, or closed already.
        }

        socket.Dispose();
    }
}

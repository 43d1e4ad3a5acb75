using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using CapCluster.Protocol.Internal;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// Connects to the controller's data port for a lane the controller granted: tries each endpoint in order,
/// sends the preamble, reads the answer, then lets the caller set up TLS on the connection. All of it with
/// blocking calls on the calling thread (see <see cref="LaneConnection"/>); the timeout covers every step
/// and, like the token, works by closing the socket.
/// </summary>
internal static class LaneDialer
{
    /// <summary>The connection, once <paramref name="setUp"/> has made it ready.</summary>
    /// <param name="endpoints">The data port at each host the capability names.</param>
    /// <param name="laneId">The lane the controller granted.</param>
    /// <param name="role">What this connection is.</param>
    /// <param name="timeout">How long connecting, the answer and <paramref name="setUp"/> may take together.</param>
    /// <param name="name">How errors name the lane.</param>
    /// <param name="setUp">Runs the TLS handshake on the accepted connection and returns what uses it.</param>
    /// <param name="cancellationToken">Closes the socket.</param>
    /// <exception cref="LaneException">The data port cannot be reached, the controller refused, or the set-up failed or took too long.</exception>
    public static T Dial<T>(
        IReadOnlyList<DnsEndPoint> endpoints,
        byte[] laneId,
        LaneRole role,
        TimeSpan timeout,
        string name,
        Func<LaneSocketStream, T> setUp,
        CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var expired = false;
            using var timer = new Timer(_ => { expired = true; socket.Dispose(); }, null, timeout, Timeout.InfiniteTimeSpan);
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
                throw NotSetUp(name, role, timeout, e);
            }

            var network = new LaneSocketStream(socket);
            try
            {
                network.Write(LanePreamble.Create(laneId, role));
                ReadAnswer(network, name);
                var ready = setUp(network);
                timer.Change(Timeout.Infinite, Timeout.Infinite);
                return ready;
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or AuthenticationException)
            {
                network.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
                throw e is LaneException ? e : expired ? NotSetUp(name, role, timeout, e) : new LaneException($"{name} failed: {e.Message}", e);
            }
        }

        throw new LaneException($"{name}: cannot reach the controller's data port ({string.Join("; ", failures)})");
    }

    private static LaneException NotSetUp(string name, LaneRole role, TimeSpan timeout, Exception e) =>
        new($"{name} was not set up within {timeout.TotalSeconds:0.#} s{(role == LaneRole.Stream ? "" : " (the other end never joined)")}", e);

    private static void ReadAnswer(Stream network, string name)
    {
        Span<byte> answer = stackalloc byte[1];
        if (network.ReadAtLeast(answer, 1, throwOnEndOfStream: false) == 0)
        {
            throw new LaneException($"{name}: the controller closed the connection without an answer");
        }

        if (answer[0] == LanePreamble.Spliced)
        {
            return;
        }

        var reason = new byte[1024];
        var length = network.ReadAtLeast(reason, reason.Length, throwOnEndOfStream: false);
        throw new LaneException($"{name} was refused by the controller: {Encoding.UTF8.GetString(reason, 0, length)}");
    }
}

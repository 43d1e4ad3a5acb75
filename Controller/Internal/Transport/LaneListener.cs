using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using CapCluster.Protocol;
using CapCluster.Protocol.Lanes;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal.Transport;

/// <summary>
/// The controller's data port, and its local socket for clients and engines on its host: accepts the ends of data
/// lanes, reads each one's preamble and hands it to the <see cref="LaneBroker"/>. Anything that is not a
/// preamble within a few seconds is refused and audited. On the local socket the kernel says who connected
/// (SO_PEERCRED): an engine's end of a data lane is accepted from the controller's own uid and those the owner
/// allowed (--handoff-uid); a client's end of a data lane and a stream lane (which then run without TLS) only from
/// the controller's own uid; nothing else at all.
/// </summary>
internal sealed class LaneListener : IAsyncDisposable
{
    private readonly Socket listener;
    private readonly Socket? local;
    private readonly LaneBroker broker;
    private readonly ConnectionLimits limits;
    private readonly IReadOnlySet<uint> localUids;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    // Each connection waiting for its preamble holds a thread (blocking reads, see LaneBroker): few are allowed per
    // address and in all, and the local socket, where engines join, has a budget of its own that no remote peer can use up.
    private readonly ConnectionBudget waiting;
    private readonly ConnectionBudget waitingLocal;
    private readonly CancellationTokenSource stopping = new();
    private readonly List<Task> running = [];
    private Task? acceptLoop;
    private Task? localAcceptLoop;
    private Task? sweepLoop;

    private LaneListener(Socket listener, Socket? local, string? localName, LaneBroker broker, ControllerOptions options, TimeProvider time, ILogger logger)
    {
        this.listener = listener;
        this.local = local;
        LocalName = localName;
        this.broker = broker;
        limits = options.Limits;
        localUids = new HashSet<uint>([Descriptors.EffectiveUserId, .. options.HandoffUids]);
        waiting = new ConnectionBudget("data-port connections still waiting for their lane preamble", limits.MaxWaitingPerAddress, limits.MaxWaiting,
            "ConnectionLimits.MaxWaitingPerAddress", "ConnectionLimits.MaxWaiting");
        waitingLocal = new ConnectionBudget("local-socket connections still waiting for their lane preamble", limits.MaxWaitingLocal, limits.MaxWaitingLocal,
            "ConnectionLimits.MaxWaitingLocal", "ConnectionLimits.MaxWaitingLocal");
        this.time = time;
        this.logger = logger;
    }

    public IPEndPoint EndPoint => (IPEndPoint)listener.LocalEndPoint!;

    /// <summary>The name of the local socket (in the abstract namespace, so it leaves no file behind), or null when there is none.</summary>
    public string? LocalName { get; }

    /// <summary>Binds the data port (0: a random free port) and, with <see cref="ControllerOptions.LaneHandoff"/> where sockets can be handed over, the local socket; starts accepting.</summary>
    /// <exception cref="GrpcBindException">The port cannot be bound.</exception>
    public static LaneListener Start(IPAddress address, int port, ControllerOptions options, LaneBroker broker, TimeProvider time, ILogger logger)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(128);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw GrpcBindException.For(new GrpcEndpoint("data", address, port), e);
        }

        var (local, localName) = options.LaneHandoff && SocketPassing.IsAvailable ? BindLocal() : (null, null);
        var lanes = new LaneListener(socket, local, localName, broker, options, time, logger);
        lanes.acceptLoop = lanes.AcceptAllAsync(socket, isLocal: false);
        lanes.localAcceptLoop = local is null ? Task.CompletedTask : lanes.AcceptAllAsync(local, isLocal: true);
        lanes.sweepLoop = lanes.SweepAllAsync();
        ControllerLog.DataPortListening(logger, lanes.EndPoint.ToString(), localName ?? "none");
        return lanes;
    }

    // A random name: it is not a secret (a joining end still needs a granted lane id), only one no other process holds.
    // Where it cannot be bound, local engines join on the data port like any other.
    private static (Socket?, string?) BindLocal()
    {
        var name = $"capcluster-lanes-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}";
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint("\0" + name));
            socket.Listen(128);
            return (socket, name);
        }
        catch (SocketException)
        {
            socket.Dispose();
            return (null, null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        listener.Dispose();
        local?.Dispose();
        await (acceptLoop ?? Task.CompletedTask).ConfigureAwait(false);
        await (localAcceptLoop ?? Task.CompletedTask).ConfigureAwait(false);
        await (sweepLoop ?? Task.CompletedTask).ConfigureAwait(false);
        Task[] left;
        lock (running)
        {
            left = [.. running];
        }

        await Task.WhenAll(left).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stopping.Dispose();
    }

    private async Task AcceptAllAsync(Socket listening, bool isLocal)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listening.AcceptAsync(stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException && stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            var (peer, address, uid) = isLocal ? LocalPeer(socket) : (socket.RemoteEndPoint?.ToString() ?? "unknown", (socket.RemoteEndPoint as IPEndPoint)?.Address, null);
            if (!isLocal)
            {
                socket.NoDelay = true;
            }

            if (isLocal && (uid is not { } known || !localUids.Contains(known)))
            {
                broker.Refuse(socket, peer, null, null, uid is null
                    ? "the local socket could not tell this peer's user id"
                    : $"uid {uid} may not join on the local hand-over socket (allowed: {string.Join(", ", localUids)}; the controller's owner adds more with --handoff-uid)");
                continue;
            }

            var budget = isLocal ? waitingLocal : waiting;
            if (budget.TryTake(address) is { } full)
            {
                broker.Refuse(socket, peer, null, null, full);
                continue;
            }

            var task = Task.Factory.StartNew(() => Serve(socket, peer, isLocal ? uid : null, () => budget.Release(address)), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
            lock (running)
            {
                running.RemoveAll(t => t.IsCompleted);
                running.Add(task);
            }
        }
    }

    /// <summary>
    /// Reads an end's preamble with blocking calls on its own thread, all of it within the preamble deadline (each
    /// read waits only for what is left of it, so a peer sending a byte at a time gains nothing), then hands it to the broker.
    /// <paramref name="localUid"/> is the peer's uid when it came on the local socket, null on the data port.
    /// </summary>
    private Task Serve(Socket socket, string peer, uint? localUid, Action release)
    {
        var preamble = new byte[LanePreamble.Length];
        var read = 0;
        var started = time.GetTimestamp();
        try
        {
            socket.SendTimeout = (int)limits.PreambleTimeout.TotalMilliseconds;
            while (read < preamble.Length)
            {
                var left = limits.PreambleTimeout - time.GetElapsedTime(started);
                if (left <= TimeSpan.Zero)
                {
                    read = -1;
                    break;
                }

                socket.ReceiveTimeout = Math.Max(1, (int)Math.Ceiling(left.TotalMilliseconds));
                var n = socket.Receive(preamble.AsSpan(read), SocketFlags.None);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            socket.ReceiveTimeout = 0;
            socket.SendTimeout = 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            read = -1;
        }
        finally
        {
            release();
        }

        if (!LanePreamble.TryParse(preamble.AsSpan(0, Math.Max(read, 0)), out var laneId, out var role))
        {
            var reason = read < 0 ? $"no whole lane preamble within {limits.PreambleTimeout.TotalSeconds:0.#} s" : "not a data lane preamble";
            broker.Refuse(socket, peer, null, null, reason);
            return Task.CompletedTask;
        }

        // A client's end or a stream on the local socket takes it off TLS: only a process of the controller's own user may.
        if (localUid is { } clientUid && role is LaneRole.Client or LaneRole.Stream && clientUid != Descriptors.EffectiveUserId)
        {
            broker.Refuse(socket, peer, role, null,
                $"uid {clientUid} may join on the local socket only as an engine's end of a data lane; a client's end or a stream joins there only with the controller's own uid {Descriptors.EffectiveUserId}");
            return Task.CompletedTask;
        }

        return broker.JoinAsync(socket, laneId, role, peer);
    }

    /// <summary>How the audit names a process on the local socket, and its uid: the kernel vouches for both (SO_PEERCRED).</summary>
    private static (string Peer, IPAddress? Address, uint? Uid) LocalPeer(Socket socket) =>
        Descriptors.PeerCredentials(socket) is var (pid, uid) ? ($"local pid {pid} uid {uid}", null, uid) : ("local", null, null);

    private async Task SweepAllAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping.Token).ConfigureAwait(false))
            {
                broker.Sweep();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

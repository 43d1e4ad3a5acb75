using System.Net;
using System.Net.Sockets;
using CapCluster.Protocol;
using CapCluster.Protocol.Lanes;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal.Lanes;

/// <summary>
/// The controller's data port: accepts the ends of data lanes, reads each one's preamble and
/// hands it to the <see cref="LaneBroker"/>. Anything that is not a preamble within a few
/// seconds is refused and audited.
/// </summary>
internal sealed class LaneListener : IAsyncDisposable
{
    private static readonly TimeSpan PreambleTimeout = TimeSpan.FromSeconds(5);

    // Each connection waiting for its preamble holds a thread (blocking reads, see LaneBroker); beyond this many, new ones are refused.
    private const int MaxWaitingPreambles = 64;

    private int waitingPreambles;

    private readonly Socket listener;
    private readonly LaneBroker broker;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private readonly List<Task> running = [];
    private Task? acceptLoop;
    private Task? sweepLoop;

    private LaneListener(Socket listener, LaneBroker broker, TimeProvider time, ILogger logger)
    {
        this.listener = listener;
        this.broker = broker;
        this.time = time;
        this.logger = logger;
    }

    public IPEndPoint EndPoint => (IPEndPoint)listener.LocalEndPoint!;

    /// <summary>Binds the data port (0: a random free port) and starts accepting.</summary>
    /// <exception cref="GrpcBindException">The port cannot be bound.</exception>
    public static LaneListener Start(IPAddress address, int port, LaneBroker broker, TimeProvider time, ILogger logger)
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

        var lanes = new LaneListener(socket, broker, time, logger);
        lanes.acceptLoop = lanes.AcceptAllAsync();
        lanes.sweepLoop = lanes.SweepAllAsync();
        ControllerLog.DataPortListening(logger, lanes.EndPoint.ToString());
        return lanes;
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        listener.Dispose();
        await (acceptLoop ?? Task.CompletedTask).ConfigureAwait(false);
        await (sweepLoop ?? Task.CompletedTask).ConfigureAwait(false);
        Task[] left;
        lock (running)
        {
            left = [.. running];
        }

        await Task.WhenAll(left).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stopping.Dispose();
    }

    private async Task AcceptAllAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException && stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            socket.NoDelay = true;
            if (Interlocked.Increment(ref waitingPreambles) > MaxWaitingPreambles)
            {
                Interlocked.Decrement(ref waitingPreambles);
                broker.Refuse(socket, socket.RemoteEndPoint?.ToString() ?? "unknown", null, null, $"more than {MaxWaitingPreambles} connections are waiting to send their preamble");
                continue;
            }

            var task = Task.Factory.StartNew(() => Serve(socket), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
            lock (running)
            {
                running.RemoveAll(t => t.IsCompleted);
                running.Add(task);
            }
        }
    }

    /// <summary>Reads an end's preamble with blocking calls on its own thread, then hands it to the broker.</summary>
    private Task Serve(Socket socket)
    {
        var peer = socket.RemoteEndPoint?.ToString() ?? "unknown";
        var preamble = new byte[LanePreamble.Length];
        var read = 0;
        try
        {
            socket.ReceiveTimeout = (int)PreambleTimeout.TotalMilliseconds;
            socket.SendTimeout = (int)PreambleTimeout.TotalMilliseconds;
            while (read < preamble.Length)
            {
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
            Interlocked.Decrement(ref waitingPreambles);
        }

        if (!LanePreamble.TryParse(preamble.AsSpan(0, Math.Max(read, 0)), out var laneId, out var role))
        {
            var reason = read < 0 ? $"no lane preamble within {PreambleTimeout.TotalSeconds:0} s" : "not a data lane preamble";
            broker.Refuse(socket, peer, null, null, reason);
            return Task.CompletedTask;
        }

        return broker.JoinAsync(socket, laneId, role, peer);
    }

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

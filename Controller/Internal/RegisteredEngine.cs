using System.Collections.Concurrent;
using System.Threading.Channels;
using CapCluster.Protocol;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal;

/// <summary>
/// A registered engine: what it said about itself, its heartbeat, and its queue.
/// Everything sent to the engine goes through the queue, in turn between those who queued it (a capability, the task
/// farm), each one's items in order; the dispatcher hands items to the engine's stream, at most maxInFlight at a time,
/// and the results come back to whoever queued them.
/// </summary>
internal sealed class RegisteredEngine
{
    /// <summary>Whose turn in the queue the task farm's batches take.</summary>
    public const string TaskFarmTurn = "(task farm)";

    private readonly FairQueue<QueuedWork> waiting = new();
    // A token per item queued, for the dispatcher to wait on. Synchronous continuations: an item queued for an idle engine
    // is dispatched and written to its stream by the thread that queued it, instead of waking the dispatcher and then the
    // writer (two thread hops on every small task's round trip). Only the writes' synchronous part runs inline; waits still yield.
    private readonly Channel<bool> doorbell = Channel.CreateUnbounded<bool>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
    private readonly Channel<ControllerMessage> outbox = Channel.CreateUnbounded<ControllerMessage>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
    private readonly ConcurrentDictionary<long, QueuedWork> inFlight = new();
    // The dispatcher's slots, as tokens: taking one is reading it, giving it back is writing it. Not a SemaphoreSlim,
    // whose waiter always resumes on the thread pool: a slot freed by a result would wake a pool thread for every task
    // (and on two cores its spinning before it sleeps is CPU the next round trip needs).
    private readonly Channel<bool> dispatchSlots;
    private readonly CancellationTokenSource lifetime = new();
    private readonly TimeProvider time;
    private readonly Action<ControllerMessage> post;
    private long lastHeartbeatTimestamp;
    private long completed;
    private long nextWorkId;
    private int queued;
    private string? endReason;

    public RegisteredEngine(int id, RegisterEngine info, string peer, TimeProvider time, int maxInFlight = 1)
    {
        Id = id;
        Info = info;
        Peer = peer;
        this.time = time;
        post = message => outbox.Writer.TryWrite(message);
        dispatchSlots = Channel.CreateBounded<bool>(new BoundedChannelOptions(maxInFlight) { SingleReader = true, AllowSynchronousContinuations = true });
        for (var i = 0; i < maxInFlight; i++)
        {
            dispatchSlots.Writer.TryWrite(true);
        }

        Registered = time.GetUtcNow();
        foreach (var (key, value) in info.Properties)
        {
            Properties[key] = value;
        }

        lastHeartbeatTimestamp = time.GetTimestamp();
        LastHeartbeat = Registered;
    }

    public int Id { get; }

    /// <summary>The engine's properties as the controller knows them: from its registration, then as clients change them.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, string> Properties { get; } = new();

    public RegisterEngine Info { get; }

    /// <summary>
    /// The task capability whose tasks alone this engine runs (and those of capabilities derived from it), as its engine
    /// capability says; it takes no MultiEngine work. Null for an engine everyone shares.
    /// </summary>
    public string? Serves { get; init; }

    /// <summary>SHA-256 of the certificate the engine connected with: what a client accepts from it on a direct connection to it.</summary>
    public byte[] CertificateSha256 { get; init; } = [];

    public string Peer { get; }

    public DateTimeOffset Registered { get; }

    public DateTimeOffset LastHeartbeat { get; private set; }

    public long Completed => Interlocked.Read(ref completed);

    public int QueueLength => Volatile.Read(ref queued);

    public int InFlight => inFlight.Count;

    /// <summary>Cancelled when the engine is gone (stream ended, killed, or silent too long).</summary>
    public CancellationToken Ended => lifetime.Token;

    public string State => lifetime.IsCancellationRequested ? "stopping" : inFlight.IsEmpty ? "idle" : "busy";

    public string Describe() => $"engine {Id} ({Info.Host}, pid {Info.Pid})";

    public TimeSpan SilenceSince(long timestamp) => time.GetElapsedTime(Interlocked.Read(ref lastHeartbeatTimestamp), timestamp);

    public void Heartbeat()
    {
        Interlocked.Exchange(ref lastHeartbeatTimestamp, time.GetTimestamp());
        LastHeartbeat = time.GetUtcNow();
    }

    /// <summary>
    /// Queues work for this engine, after <paramref name="owner"/>'s earlier items (a capability id, or
    /// <see cref="TaskFarmTurn"/>); the task completes with the engine's result.
    /// </summary>
    public Task<EngineResult> Enqueue(string owner, Func<long, Work> make, RelayedBlobs? blobs = null)
    {
        var id = Interlocked.Increment(ref nextWorkId);
        var item = new QueuedWork(make(id), blobs ?? RelayedBlobs.None);
        Interlocked.Increment(ref queued);
        if (!waiting.TryEnqueue(owner, item))
        {
            Interlocked.Decrement(ref queued);
            item.Fail(Gone());
            return item.Result;
        }

        doorbell.Writer.TryWrite(true);
        return item.Result;
    }

    /// <summary>
    /// Drops the items still waiting in the queue whose owner <paramref name="whose"/> matches (not the one running);
    /// their callers get an error saying so.
    /// </summary>
    public int ClearQueue(string by, Func<string, bool> whose)
    {
        var cleared = waiting.RemoveAll(whose);
        foreach (var item in cleared)
        {
            Interlocked.Decrement(ref queued);
            item.Fail(new RpcException(new Status(StatusCode.Aborted, $"removed from {Describe()}'s queue by {by} before it ran")));
        }

        return cleared.Count;
    }

    /// <summary>Sends a control message ahead of the queue.</summary>
    public void Send(ControllerMessage message) => outbox.Writer.TryWrite(message);

    public void CompleteWork(WorkResult result, RelayedBlobs blobs)
    {
        if (inFlight.TryRemove(result.WorkId, out var item))
        {
            // The slot first: whoever waits for the result may queue more at once (it runs on this thread, see QueuedWork).
            // A batch of tasks counts its tasks, as users count what an engine did.
            Interlocked.Add(ref completed, result.Reply?.Tasks is { } tasks ? tasks.Replies.Count : 1);
            dispatchSlots.Writer.TryWrite(true);
            item.Complete(new EngineResult(result, blobs));
        }
    }

    /// <summary>Runs the dispatcher and the stream writer until the engine is gone.</summary>
    public async Task PumpAsync(IServerStreamWriter<ControllerMessage> stream, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.Token);
        var dispatcher = DispatchAsync(linked.Token);
        try
        {
            await foreach (var message in outbox.Reader.ReadAllAsync(linked.Token).ConfigureAwait(false))
            {
                await stream.WriteAsync(message, linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
        }
        finally
        {
            await linked.CancelAsync().ConfigureAwait(false);
            await dispatcher.ConfigureAwait(false);
        }
    }

    /// <summary>Marks the engine gone: every queued and in-flight item fails with an error naming it.</summary>
    public void End(string reason)
    {
        if (Interlocked.CompareExchange(ref endReason, reason, null) is not null)
        {
            return;
        }

        lifetime.Cancel();
        doorbell.Writer.TryComplete();
        outbox.Writer.TryComplete();
        var error = Gone();
        foreach (var item in waiting.Complete())
        {
            Interlocked.Decrement(ref queued);
            item.Fail(error);
        }

        foreach (var id in inFlight.Keys)
        {
            if (inFlight.TryRemove(id, out var item))
            {
                item.Fail(error);
            }
        }
    }

    private RpcException Gone() =>
        new(new Status(StatusCode.Aborted, $"{Describe()} is gone: {endReason ?? "it was unregistered"}"));

    private async Task DispatchAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                // A slot first, then the item: what waits for the engine stays in the queue, counted and clearable.
                await dispatchSlots.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await doorbell.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (ChannelClosedException)
                {
                    return;
                }

                if (!waiting.TryDequeue(out var item))
                {
                    // Its item was cleared: the token outlived it.
                    dispatchSlots.Writer.TryWrite(true);
                    continue;
                }

                Interlocked.Decrement(ref queued);
                inFlight[item.Work.WorkId] = item;
                if (lifetime.IsCancellationRequested && inFlight.TryRemove(item.Work.WorkId, out _))
                {
                    // End() ran between the read and the insert: it could not see this item.
                    item.Fail(Gone());
                    continue;
                }

                Units.Relay(new ControllerMessage { Work = item.Work }, item.Blobs, post);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}

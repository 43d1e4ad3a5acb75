using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using CapCluster.Client.Internal.Delegates;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Microsoft.Extensions.Logging;

namespace CapCluster.Client.Internal;

/// <summary>
/// A task client's long-lived stream. Submissions queue up and leave in batches (everything waiting
/// when the writer gets its turn goes in one message); results of this client's tasks arrive in
/// batches and are kept for <see cref="TaskClient.GetResultAsync"/> and the results feed.
/// When the stream breaks it is opened again, as the connection's <see cref="ControllerConnection.Reconnect"/>
/// says: submissions made meanwhile wait for it, and the results still awaited are asked for by id
/// (see TaskSession.Resync.cs). Every wait ends: with a result, or with an error saying why.
/// </summary>
internal sealed partial class TaskSession(ControllerConnection connection) : IAsyncDisposable
{
    // Created with the client, after ConnectAsync gave the connection its logger factory.
    private readonly ILogger logger = connection.LoggerFactory.CreateLogger(ClientLog.Category);

    // A unit is one RunAsync batch: it is never split across messages, so references within it resolve.
    // Synchronous continuations: when the writer is idle, the submitting thread batches and writes at once
    // (a lone task leaves without waiting for a thread hop); while a write is in progress submissions queue
    // up and leave together in the next message.
    private readonly Channel<Unit> outgoing =
        Channel.CreateUnbounded<Unit>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
    // Units written whose ids have not all come, by their first client reference (a unit's references are consecutive):
    // one entry a unit, not one a task. Guarded by itself.
    private readonly Dictionary<long, Unit> awaitingIds = [];
    private readonly ConcurrentDictionary<long, Awaited> results = new();
    private readonly ResultsFeed feed = new();
    private readonly CancellationTokenSource lifetime = new();
    private readonly Lock startLock = new();

    // How long a broken stream waits for the controller to say whether it still accepts the capability (see PumpAsync):
    // an answer comes in a round trip; a controller that stopped answers nothing, or at once that it is not there.
    private static readonly TimeSpan RefusalWait = TimeSpan.FromSeconds(2);

    // Units a stream found it could not send (the controller had closed it first): the next stream sends them first.
    private readonly List<Unit> unsent = [];
    private Task? pump;
    private long nextRef;
    private int generation;

    /// <summary>The assembly closures this client's delegate tasks name; each stream lists them once.</summary>
    public ShippedClosures Closures { get; } = new();

    /// <summary>The results feed of <see cref="TaskClient.ResultsAsync"/>.</summary>
    public ResultsFeed Feed => feed;

    /// <summary>Queues a batch of submissions (sent together); completes with their acceptances, in order, once all came.</summary>
    public Task<TaskAccepted[]> Submit(IReadOnlyList<SubmitTask> batch)
    {
        var unit = new Unit(batch);
        EnsureStarted();
        outgoing.Writer.TryWrite(unit);
        return unit.Task;
    }

    /// <summary>Forgets cached results (all finished ones when <paramref name="taskIds"/> is empty).</summary>
    public void Forget(IReadOnlyCollection<long> taskIds)
    {
        foreach (var id in taskIds.Count > 0 ? taskIds : [.. results.Where(r => r.Value.IsCompleted).Select(r => r.Key)])
        {
            results.TryRemove(id, out _);
        }
    }

    /// <summary>Takes <paramref name="count"/> consecutive client references for one batch; returns the first.</summary>
    public long NextReferences(int count) => Interlocked.Add(ref nextRef, count) - count + 1;

    /// <summary>The result of one of this stream's tasks, once it arrives.</summary>
    public Task<TaskOutcome> ResultOf(long taskId) => Waiter(taskId).AsTask();

    public bool Owns(long taskId) => results.ContainsKey(taskId);

    /// <summary>Whether the wait for one of this stream's tasks has ended (its result came, or it never will).</summary>
    public bool HasEnded(long taskId) => results.TryGetValue(taskId, out var wait) && wait.IsCompleted;

    /// <summary>
    /// Ends the stream. The pump fails every wait as it stops; one that has not stopped within
    /// <see cref="ClientSession.GoodbyeTimeout"/> is abandoned, and the waits fail here: leaving never waits on the engines.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        outgoing.Writer.TryComplete();
        var goodbye = Task.Run(async () =>
        {
            await lifetime.CancelAsync().ConfigureAwait(false);
            if (pump is not null)
            {
                await pump.ConfigureAwait(false);
            }
        });
        try
        {
            await goodbye.WaitAsync(ClientSession.GoodbyeTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _ = goodbye.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            FailEverything(new ObjectDisposedException(nameof(TaskClient), "the task client was disposed"));
        }
    }

    private void EnsureStarted()
    {
        lock (startLock)
        {
            pump ??= PumpAsync();
        }
    }

    /// <summary>
    /// Keeps a stream open while the client lives: when one breaks after the controller was reached, the next opens
    /// (with backoff while they keep breaking) and first asks for the results still awaited. When the controller stays
    /// out of reach for the reconnection timeout, or refuses the capability, every wait fails with that error and the
    /// next submission tries afresh.
    /// </summary>
    private async Task PumpAsync()
    {
        var resync = false;
        var backoff = new Backoff(connection.Reconnect, connection.Time);
        while (true)
        {
            Exception error;
            var final = false;
            try
            {
                var (ended, healthy) = await RunStreamAsync(resync).ConfigureAwait(false);
                error = ended;
                if (healthy)
                {
                    backoff.Reset();
                }
            }
            catch (CapClusterException e)
            {
                // Opening failed after the reconnection timeout (or a refusal): nothing will answer these waits.
                error = e;
                final = true;
            }
            catch (Exception e) when (lifetime.IsCancellationRequested && e is OperationCanceledException or RpcException)
            {
                // Disposed while a stream was opening: the open ends as a cancelled call.
                error = new ObjectDisposedException(nameof(TaskClient), "the task client was disposed");
            }

            if (lifetime.IsCancellationRequested)
            {
                FailEverything(new ObjectDisposedException(nameof(TaskClient), "the task client was disposed"));
                return;
            }

            // The controller closes the connections of a capability it revoked (or that expired) as if it had stopped: ask
            // it, so that what waits hears that refusal rather than of a lost connection.
            if (!final && error is not CapabilityRefusedException && await connection.RefusalAsync(RefusalWait, lifetime.Token).ConfigureAwait(false) is { } refused)
            {
                (error, final) = (refused, true);
            }

            // What was written but never acknowledged may or may not have been queued: say so, never send it twice.
            FailOnPool(DrainAwaitingIds(), error is CapabilityRefusedException refusal ? ClientErrors.RefusedUnacknowledged(refusal) : ClientErrors.Unacknowledged(error));
            // Only a lost connection is worth another stream; a refusal or an error the controller answered is not.
            var lost = !final && error is ControllerUnreachableException;
            if (lost && backoff.Next() is { } delay)
            {
                ClientLog.TaskStreamLost(logger, connection.Capability.CapabilityId, error.Message, delay);
                resync = true;
                try
                {
                    await Task.Delay(delay, connection.Time, lifetime.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                continue;
            }

            var ending = lost ? backoff.GaveUp(error, connection) : error;
            var failing = AwaitingIdsCount() + results.Count(r => !r.Value.IsCompleted);
            ClientLog.TaskStreamEnded(logger, connection.Capability.CapabilityId, ending.Message, failing);
            FailEverything(ending);
            resync = false;
            backoff.Reset();
            try
            {
                if (!await outgoing.Reader.WaitToReadAsync(lifetime.Token).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// One stream, from opening to its end: returns why it ended, and whether it was healthy (it lived a while or
    /// carried answers), which resets the backoff. Throws when it could not be opened at all.
    /// </summary>
    private async Task<(Exception Error, bool Healthy)> RunStreamAsync(bool resync)
    {
        using var call = await connection.OpenStreamAsync(CapClusterMethods.TaskStreamView, lifetime.Token).ConfigureAwait(false);
        var opened = connection.Time.GetTimestamp();
        var answered = new StrongBox<bool>();
        var reader = ReadAsync(call, Interlocked.Increment(ref generation), answered);

        // When the controller ends the stream (it was killed, or it closed the connection of a revoked capability),
        // stop waiting for submissions at once, so that waiting callers and the results feed learn it now.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(lifetime.Token);
        _ = reader.ContinueWith(_ => CancelQuietly(ended), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Exception? failure = null;
        try
        {
            if (resync)
            {
                // Before anything new is sent, so that no new task's id is taken for an old one's.
                await ResyncAsync(ended.Token).ConfigureAwait(false);
            }

            var listing = Closures.OnStream();
            var units = TakeUnsent();
            while (units.Count > 0 || await outgoing.Reader.WaitToReadAsync(ended.Token).ConfigureAwait(false))
            {
                var message = new SubmissionMessage();
                foreach (var unit in units)
                {
                    Add(message, unit, listing);
                }

                while (message.Tasks.Tasks.Count < 2048 && outgoing.Reader.TryRead(out var unit))
                {
                    units.Add(unit);
                    Add(message, unit, listing);
                }

                try
                {
                    await call.RequestStream.WriteAsync(new TaskClientMessage { Submit = message.Tasks }, ended.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (ChannelFailures.NotSent(e))
                {
                    // The controller had gone before this batch left (killed, say): it never saw it, so it is not lost
                    // with the stream but sent first on the next one.
                    lock (awaitingIds)
                    {
                        units.ForEach(u => awaitingIds.Remove(u.FirstRef));
                    }

                    KeepUnsent(units);
                    throw;
                }

                units = [];
            }

            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or IOException or OperationCanceledException or CapClusterException)
        {
            failure = e;
            if (!reader.IsCompleted)
            {
                // The stream itself may be fine (a resync call failed): end it, so the reader returns.
                call.Dispose();
            }
        }

        // The reader's error says why the stream ended; the writer's is often just its cancellation.
        failure = await reader.ConfigureAwait(false) ?? failure;
        var healthy = answered.Value || connection.Time.GetElapsedTime(opened) >= connection.Reconnect.MaxDelay;
        Exception error = failure switch
        {
            RpcException rpc => connection.Translate(rpc),
            CapClusterException known => known,
            OperationCanceledException when lifetime.IsCancellationRequested => failure,
            _ => connection.Lost(failure ?? new IOException("the controller ended the task stream")),
        };
        return (error, healthy);
    }

    /// <summary>
    /// What waits for a task's result. Its continuations run where it is completed: right after the message that
    /// brought the result, where <c>AsyncStreamReaderExtensions.RunAfterThisMessage</c> puts them; never
    /// inside the reading loop itself.
    /// </summary>
    private Awaited Waiter(long taskId) =>
        results.GetOrAdd(taskId, static (_, current) => new Awaited(current), Volatile.Read(ref generation));

    /// <summary>Puts <paramref name="unit"/> in <paramref name="message"/>: its tasks await their ids, and list their closures for this stream.</summary>
    private void Add(SubmissionMessage message, Unit unit, ShippedClosures.Listing listing)
    {
        if (unit.Tasks.Count == 0)
        {
            return;
        }

        lock (awaitingIds)
        {
            awaitingIds[unit.FirstRef] = unit;
        }

        foreach (var task in unit.Tasks)
        {
            message.Add(task, listing.List(task.Spec));
        }
    }

    /// <summary>
    /// The written unit that holds client reference <paramref name="clientRef"/>, if its id is still awaited: <paramref name="last"/>
    /// (the unit of the acceptance before, since a submission's acceptances come in its order), or the unit it starts, or
    /// (an acceptance list that began inside a unit) whichever holds it. Under the lock of awaitingIds.
    /// </summary>
    private Unit? AwaitingUnitOf(long clientRef, Unit? last)
    {
        if (last is not null && last.Holds(clientRef))
        {
            return last;
        }

        if (awaitingIds.TryGetValue(clientRef, out var starting))
        {
            return starting;
        }

        // A loop, not a lambda: one capturing the reference would be made on every call, not only on this rare path.
        foreach (var unit in awaitingIds.Values)
        {
            if (unit.Holds(clientRef))
            {
                return unit;
            }
        }

        return null;
    }

    private int AwaitingIdsCount()
    {
        lock (awaitingIds)
        {
            return awaitingIds.Values.Sum(u => u.Missing);
        }
    }

    /// <summary>Keeps <paramref name="units"/>, which a stream could not send, to go first on the next one.</summary>
    private void KeepUnsent(List<Unit> units)
    {
        lock (startLock)
        {
            unsent.InsertRange(0, units);
        }
    }

    private List<Unit> TakeUnsent()
    {
        lock (startLock)
        {
            var taken = unsent.ToList();
            unsent.Clear();
            return taken;
        }
    }

    /// <summary>Every wait ends with <paramref name="error"/>: queued submissions, acceptances, results, the feed.</summary>
    private void FailEverything(Exception error)
    {
        var queued = TakeUnsent();
        while (outgoing.Reader.TryRead(out var unit))
        {
            queued.Add(unit);
        }

        FailOnPool(queued, error);
        FailOnPool(DrainAwaitingIds(), error);
        FailOnPool(results.Values.Where(r => !r.IsCompleted), static (w, e) => w.TrySetException(e), error);
        feed.Complete(error);
    }

    /// <summary>Stops waiting for the ids of the tasks written: returns their units, each once.</summary>
    private List<Unit> DrainAwaitingIds()
    {
        lock (awaitingIds)
        {
            var drained = awaitingIds.Values.ToList();
            awaitingIds.Clear();
            return drained;
        }
    }

    /// <summary>Fails each of <paramref name="waiting"/> on a pool thread: a caller's continuation must not hold up the others' (see Waiter).</summary>
    private static void FailOnPool<T>(IEnumerable<TaskCompletionSource<T>> waiting, Exception error) =>
        FailOnPool(waiting, static (w, e) => w.TrySetException(e), error);

    private static void FailOnPool<T>(IEnumerable<T> waiting, Func<T, Exception, bool> fail, Exception error)
    {
        foreach (var one in waiting)
        {
            ThreadPool.UnsafeQueueUserWorkItem(w => fail(w, error), one, preferLocal: false);
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The stream already ended.
        }
    }

    private async Task<Exception?> ReadAsync(AsyncDuplexStreamingCall<TaskClientMessage, TaskServerMessageView> call, int current, StrongBox<bool> answered)
    {
        try
        {
            while (await call.ResponseStream.MoveNext(lifetime.Token).ConfigureAwait(false))
            {
                answered.Value = true;
                var message = call.ResponseStream.Current;
                if (message.KindCase == TaskServerMessageView.KindOneofCase.Accepted)
                {
                    var completed = new List<Unit>();
                    foreach (var accepted in message.Accepted.Tasks)
                    {
                        if (accepted.TaskId > 0)
                        {
                            // A restarted controller that keeps no journal gives out ids again: a wait from an earlier
                            // stream is an old task's, not this one's. (A result may come before its acceptance: keep
                            // what this stream made.)
                            results.AddOrUpdate(accepted.TaskId, static (_, current) => new(current), static (_, old, current) => old.Generation < current ? new(current) : old, current);
                        }
                    }

                    lock (awaitingIds)
                    {
                        Unit? unit = null;
                        foreach (var accepted in message.Accepted.Tasks)
                        {
                            unit = AwaitingUnitOf(accepted.ClientRef, unit);
                            if (unit is not null && unit.Accept(accepted.ClientRef, accepted))
                            {
                                awaitingIds.Remove(unit.FirstRef);
                                completed.Add(unit);
                            }
                        }
                    }

                    call.ResponseStream.RunAfterThisMessage(() => completed.ForEach(u => u.Complete()));
                }
                else if (message.KindCase == TaskServerMessageView.KindOneofCase.Results)
                {
                    // Each result stays encoded until its outcome is read: only its id is read here.
                    var finished = new List<(Awaited, TaskOutcome)>(message.Results.Results.Count);
                    foreach (var encoded in message.Results.Results)
                    {
                        var outcome = new TaskOutcome(EncodedResults.TaskIdOf(encoded.Span), encoded);
                        finished.Add((Waiter(outcome.TaskId), outcome));
                        feed.Offer(outcome);
                    }

                    call.ResponseStream.RunAfterThisMessage(() => finished.ForEach(f => f.Item1.TrySetResult(f.Item2)));
                }
            }

            return null;
        }
        catch (Exception e) when (e is RpcException or IOException or InvalidDataException or OperationCanceledException or ObjectDisposedException)
        {
            return e;
        }
    }

    /// <summary>
    /// One <see cref="Submit"/> batch: its tasks, whose client references are consecutive, and one wait for all their
    /// acceptances (not one a task: a burst of 100,000 waits on some fifty of these). Acceptances are recorded on the
    /// reader; the wait completes with the last.
    /// </summary>
    private sealed class Unit : TaskCompletionSource<TaskAccepted[]>
    {
        private readonly TaskAccepted[] accepted;
        private int missing;

        /// <exception cref="ArgumentException">The tasks' references are not consecutive.</exception>
        public Unit(IReadOnlyList<SubmitTask> tasks)
        {
            Tasks = tasks;
            FirstRef = tasks.Count > 0 ? tasks[0].ClientRef : 0;
            for (var i = 0; i < tasks.Count; i++)
            {
                if (tasks[i].ClientRef != FirstRef + i)
                {
                    throw new ArgumentException($"a batch's client references must be consecutive: task {i} has {tasks[i].ClientRef}, not {FirstRef + i}", nameof(tasks));
                }
            }

            accepted = new TaskAccepted[tasks.Count];
            missing = tasks.Count;
            if (missing == 0)
            {
                Complete();
            }
        }

        public IReadOnlyList<SubmitTask> Tasks { get; }

        /// <summary>The client reference of its first task; the others follow it.</summary>
        public long FirstRef { get; }

        /// <summary>How many of its acceptances have not come.</summary>
        public int Missing => Volatile.Read(ref missing);

        /// <summary>Whether <paramref name="clientRef"/> is one of its tasks'.</summary>
        public bool Holds(long clientRef) => clientRef >= FirstRef && clientRef - FirstRef < Tasks.Count;

        /// <summary>Records the acceptance of the task with <paramref name="clientRef"/> (one it holds); true when it was the last one missing. A repeat counts nothing.</summary>
        public bool Accept(long clientRef, TaskAccepted one)
        {
            var index = (int)(clientRef - FirstRef);
            if (accepted[index] is not null)
            {
                return false;
            }

            accepted[index] = one;
            return Interlocked.Decrement(ref missing) == 0;
        }

        public void Complete() => TrySetResult(accepted);
    }

}

using System.Collections.Concurrent;
using System.Threading.Channels;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;

namespace CapCluster.Client.Internal;

/// <summary>
/// A task client's long-lived stream. Submissions queue up and leave in batches (everything waiting
/// when the writer gets its turn goes in one message); results of this client's tasks arrive in
/// batches and are kept for <see cref="TaskClient.GetResultAsync"/> and the results feed.
/// </summary>
internal sealed class TaskSession(ControllerConnection connection) : IAsyncDisposable
{
    // A unit is one RunAsync batch: it is never split across messages, so references within it resolve.
    // Synchronous continuations: when the writer is idle, the submitting thread batches and writes at once
    // (a lone task leaves without waiting for a thread hop); while a write is in progress submissions queue
    // up and leave together in the next message.
    private readonly Channel<IReadOnlyList<(SubmitTask Task, TaskCompletionSource<TaskAccepted> Accepted)>> outgoing =
        Channel.CreateUnbounded<IReadOnlyList<(SubmitTask, TaskCompletionSource<TaskAccepted>)>>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
    private readonly ConcurrentDictionary<long, TaskCompletionSource<TaskAccepted>> awaitingIds = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource<TaskResult>> results = new();
    private readonly Channel<TaskResult> feed = Channel.CreateUnbounded<TaskResult>();
    private readonly CancellationTokenSource lifetime = new();
    private readonly Lock startLock = new();
    private Task? pump;
    private long nextRef;

    /// <summary>Hashes of shipped assemblies already sent on this stream (the controller keeps them).</summary>
    public ConcurrentDictionary<string, bool> SentAssemblies { get; } = new();

    public ChannelReader<TaskResult> Feed => feed.Reader;

    /// <summary>Queues a batch of submissions (sent together); each task completes with its acceptance.</summary>
    public IReadOnlyList<Task<TaskAccepted>> Submit(IReadOnlyList<SubmitTask> batch)
    {
        var unit = batch.Select(t => (t, new TaskCompletionSource<TaskAccepted>())).ToList();
        EnsureStarted();
        outgoing.Writer.TryWrite(unit);
        return [.. unit.Select(u => u.Item2.Task)];
    }

    /// <summary>Forgets cached results (all finished ones when <paramref name="taskIds"/> is empty).</summary>
    public void Forget(IReadOnlyCollection<long> taskIds)
    {
        foreach (var id in taskIds.Count > 0 ? taskIds : [.. results.Where(r => r.Value.Task.IsCompleted).Select(r => r.Key)])
        {
            results.TryRemove(id, out _);
        }
    }

    public long NextReference() => Interlocked.Increment(ref nextRef);

    /// <summary>The result of one of this stream's tasks, once it arrives.</summary>
    public Task<TaskResult> ResultOf(long taskId) => Waiter(taskId).Task;

    public bool Owns(long taskId) => results.ContainsKey(taskId);

    public async ValueTask DisposeAsync()
    {
        outgoing.Writer.TryComplete();
        await lifetime.CancelAsync().ConfigureAwait(false);
        if (pump is not null)
        {
            await pump.ConfigureAwait(false);
        }
    }

    private void EnsureStarted()
    {
        lock (startLock)
        {
            pump ??= RunAsync();
        }
    }

    private async Task RunAsync()
    {
        using var call = await connection.OpenStreamAsync(CapClusterMethods.TasksOpenStream, CapClusterMethods.Tasks, lifetime.Token).ConfigureAwait(false);
        var reader = ReadAsync(call);

        // When the controller ends the stream (e.g. it closed the connection of a revoked capability), stop
        // waiting for submissions at once, so that waiting callers and the results feed learn it now.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(lifetime.Token);
        _ = reader.ContinueWith(_ => CancelQuietly(ended), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Exception? failure = null;
        try
        {
            while (await outgoing.Reader.WaitToReadAsync(ended.Token).ConfigureAwait(false))
            {
                var batch = new SubmitTasks();
                while (batch.Tasks.Count < 2048 && outgoing.Reader.TryRead(out var unit))
                {
                    foreach (var (task, accepted) in unit)
                    {
                        awaitingIds[task.ClientRef] = accepted;
                        batch.Tasks.Add(task);
                    }
                }

                await call.RequestStream.WriteAsync(new TaskClientMessage { Submit = batch }, ended.Token).ConfigureAwait(false);
            }

            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or IOException or OperationCanceledException)
        {
            failure = e;
        }

        // The reader's error says why the stream ended; the writer's is often just its cancellation.
        failure = await reader.ConfigureAwait(false) ?? failure;
        var error = failure is RpcException rpc ? connection.Translate(rpc) : new ControllerUnreachableException("the task stream ended: " + failure?.Message, failure);
        FailOnPool(awaitingIds.Values, error);
        FailOnPool(results.Values, error);

        feed.Writer.TryComplete(error);
    }

    /// <summary>
    /// What waits for a task's result. Its continuations run where it is completed: right after the message that
    /// brought the result, on the stream's reader thread (a stream lane hands its reading to another thread if a
    /// caller's continuation runs long), or on a pool thread; never inside the reading loop itself.
    /// </summary>
    private TaskCompletionSource<TaskResult> Waiter(long taskId) =>
        results.GetOrAdd(taskId, _ => new TaskCompletionSource<TaskResult>());

    /// <summary>Fails each of <paramref name="waiting"/> on a pool thread: a caller's continuation must not hold up the others' (see Waiter).</summary>
    private static void FailOnPool<T>(IEnumerable<TaskCompletionSource<T>> waiting, Exception error)
    {
        foreach (var one in waiting)
        {
            ThreadPool.UnsafeQueueUserWorkItem(w => w.TrySetException(error), one, preferLocal: false);
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

    private async Task<Exception?> ReadAsync(AsyncDuplexStreamingCall<TaskClientMessage, TaskServerMessage> call)
    {
        try
        {
            while (await call.ResponseStream.MoveNext(lifetime.Token).ConfigureAwait(false))
            {
                var message = call.ResponseStream.Current;
                if (message.KindCase == TaskServerMessage.KindOneofCase.Accepted)
                {
                    var acceptances = new List<(TaskCompletionSource<TaskAccepted>, TaskAccepted)>(message.Accepted.Tasks.Count);
                    foreach (var accepted in message.Accepted.Tasks)
                    {
                        if (accepted.TaskId > 0)
                        {
                            _ = Waiter(accepted.TaskId);
                        }

                        if (awaitingIds.TryRemove(accepted.ClientRef, out var waiting))
                        {
                            acceptances.Add((waiting, accepted));
                        }
                    }

                    call.ResponseStream.RunAfterThisMessage(() => acceptances.ForEach(a => a.Item1.TrySetResult(a.Item2)));
                }
                else if (message.KindCase == TaskServerMessage.KindOneofCase.Results)
                {
                    var finished = new List<(TaskCompletionSource<TaskResult>, TaskResult)>(message.Results.Results.Count);
                    foreach (var result in message.Results.Results)
                    {
                        finished.Add((Waiter(result.TaskId), result));
                        feed.Writer.TryWrite(result);
                    }

                    call.ResponseStream.RunAfterThisMessage(() => finished.ForEach(f => f.Item1.TrySetResult(f.Item2)));
                }
            }

            return null;
        }
        catch (Exception e) when (e is RpcException or IOException or OperationCanceledException)
        {
            return e;
        }
    }
}

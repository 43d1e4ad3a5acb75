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
    private readonly Channel<(SubmitTask Task, TaskCompletionSource<TaskAccepted> Accepted)> outgoing =
        Channel.CreateUnbounded<(SubmitTask, TaskCompletionSource<TaskAccepted>)>(new UnboundedChannelOptions { SingleReader = true });
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

    public Task<TaskAccepted> SubmitAsync(TaskSpec spec, long? clientRef, out long reference)
    {
        reference = clientRef ?? Interlocked.Increment(ref nextRef);
        var accepted = new TaskCompletionSource<TaskAccepted>(TaskCreationOptions.RunContinuationsAsynchronously);
        EnsureStarted();
        outgoing.Writer.TryWrite((new SubmitTask { ClientRef = reference, Spec = spec }, accepted));
        return accepted.Task;
    }

    public long NextReference() => Interlocked.Increment(ref nextRef);

    /// <summary>The result of one of this stream's tasks, once it arrives.</summary>
    public Task<TaskResult> ResultOf(long taskId) =>
        results.GetOrAdd(taskId, _ => new TaskCompletionSource<TaskResult>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

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
        using var call = connection.Channel.DuplexStreaming(CapClusterMethods.Tasks, new CallOptions(CancellationToken: lifetime.Token));
        var reader = ReadAsync(call);
        Exception? failure = null;
        try
        {
            while (await outgoing.Reader.WaitToReadAsync(lifetime.Token).ConfigureAwait(false))
            {
                var batch = new SubmitTasks();
                while (batch.Tasks.Count < 4096 && outgoing.Reader.TryRead(out var item))
                {
                    awaitingIds[item.Task.ClientRef] = item.Accepted;
                    batch.Tasks.Add(item.Task);
                }

                await call.RequestStream.WriteAsync(new TaskClientMessage { Submit = batch }, lifetime.Token).ConfigureAwait(false);
            }

            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or IOException or OperationCanceledException)
        {
            failure = e;
        }

        failure ??= await reader.ConfigureAwait(false);
        var error = failure is RpcException rpc ? connection.Translate(rpc) : new ControllerUnreachableException("the task stream ended: " + failure?.Message, failure);
        foreach (var waiting in awaitingIds.Values)
        {
            waiting.TrySetException(error);
        }

        foreach (var waiting in results.Values)
        {
            waiting.TrySetException(error);
        }

        feed.Writer.TryComplete(error);
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
                    foreach (var accepted in message.Accepted.Tasks)
                    {
                        if (accepted.TaskId > 0)
                        {
                            ResultOf(accepted.TaskId);
                        }

                        if (awaitingIds.TryRemove(accepted.ClientRef, out var waiting))
                        {
                            waiting.TrySetResult(accepted);
                        }
                    }
                }
                else if (message.KindCase == TaskServerMessage.KindOneofCase.Results)
                {
                    foreach (var result in message.Results.Results)
                    {
                        results.GetOrAdd(result.TaskId, _ => new TaskCompletionSource<TaskResult>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(result);
                        feed.Writer.TryWrite(result);
                    }
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

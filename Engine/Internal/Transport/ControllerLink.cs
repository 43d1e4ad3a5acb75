using CapCluster.Connection;
using CapCluster.Protocol;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CapCluster.Engine.Internal.Transport;

/// <summary>
/// One registration of this engine with its controller, as whole work in and whole results out. Which carrier brings a
/// work item's values (its stream, or a data lane a client opened) and takes a result's values back is decided here,
/// and nowhere else in the engine: <see cref="ReadAsync"/> delivers work with its values on their way, and
/// <see cref="AnswerAsync"/> receives them, runs the work and sends its result. The link heartbeats while it is open.
/// </summary>
/// <remarks>
/// Threading: a delivery is made on the thread that read it. On a stream lane that is the lane's reader thread, which
/// must not block; <see cref="RunAfterDelivery"/> runs short work right after the delivery on that same thread (no
/// thread hop), and the lane hands its reading to another thread if that work runs long. On HTTP/2 it runs on the pool.
/// </remarks>
internal sealed class ControllerLink : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<EngineMessage, ControllerMessage> call;
    private readonly SerializedWriter writer;
    private readonly EngineLanes lanes;
    private readonly CancellationTokenSource open;
    private readonly ILogger logger;
    private Task heartbeats = Task.CompletedTask;

    private ControllerLink(AsyncDuplexStreamingCall<EngineMessage, ControllerMessage> call, ControllerConnection connection, CancellationToken cancellationToken, ILogger logger)
    {
        this.call = call;
        this.logger = logger;
        writer = new SerializedWriter(call.RequestStream);
        lanes = new EngineLanes(connection, logger);
        open = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    /// <summary>The id the controller confirmed for this engine.</summary>
    public int EngineId { get; private set; }

    /// <summary>
    /// Opens the link and registers: returns once the controller confirmed the registration, heartbeating every
    /// period it asked for (<paramref name="heartbeatPeriod"/> when it named none).
    /// </summary>
    /// <exception cref="IOException">The controller did not confirm the registration.</exception>
    /// <exception cref="RpcException">The controller refused the engine, or could not be reached.</exception>
    public static async Task<ControllerLink> RegisterAsync(
        ControllerConnection connection, RegisterEngine registration, TimeSpan heartbeatPeriod, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var call = await connection.OpenStreamAsync(CapClusterMethods.EngineLink, cancellationToken).ConfigureAwait(false);
        var link = new ControllerLink(call, connection, cancellationToken, logger);
        try
        {
            await link.writer.WriteAsync(new EngineMessage { Register = registration }, cancellationToken).ConfigureAwait(false);
            if (!await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false)
                || call.ResponseStream.Current.KindCase != ControllerMessage.KindOneofCase.Registered)
            {
                throw new IOException("the controller did not confirm the registration");
            }
        }
        catch
        {
            await link.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var confirmed = call.ResponseStream.Current.Registered;
        link.EngineId = confirmed.EngineId;
        var period = confirmed.HeartbeatPeriodMs > 0 ? TimeSpan.FromMilliseconds(confirmed.HeartbeatPeriodMs) : heartbeatPeriod;
        link.heartbeats = link.HeartbeatAsync(period, time);
        return link;
    }

    /// <summary>
    /// Reads the controller's messages, handing each work item to <paramref name="deliver"/> with its values on their
    /// way, and the ids of tasks it aborted after sending them to <paramref name="abort"/> (as they come, while work
    /// runs); true when the controller told the engine to stop (the link is then completed), false when it closed.
    /// </summary>
    public async Task<bool> ReadAsync(Action<Delivery> deliver, Action<IReadOnlyList<long>> abort, CancellationToken cancellationToken)
    {
        var messages = new UnitReader<ControllerMessage, ReceivedValues>(call.ResponseStream, head => Receive(head.Work), strict: false);
        while (await messages.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            var message = messages.Current;
            switch (message.KindCase)
            {
                case ControllerMessage.KindOneofCase.Work:
                    deliver(new Delivery(message.Work, IsPushOnLane(message.Work) ? null : messages.Blobs));
                    break;
                case ControllerMessage.KindOneofCase.OpenLane:
                    lanes.Join(message.OpenLane);
                    break;
                case ControllerMessage.KindOneofCase.Expect:
                    lanes.Expect(message.Expect);
                    break;
                case ControllerMessage.KindOneofCase.AbortTasks:
                    abort(message.AbortTasks.TaskIds);
                    break;
                case ControllerMessage.KindOneofCase.Stop:
                    EngineLog.Stopping(logger, message.Stop.Reason);
                    await writer.CompleteAsync().ConfigureAwait(false);
                    return true;
            }
        }

        return false;
    }

    /// <summary>Runs <paramref name="action"/> right after the current delivery, on its thread where the carrier allows (see remarks).</summary>
    public void RunAfterDelivery(Action action) => call.ResponseStream.RunAfterThisMessage(action);

    /// <summary>
    /// Answers one delivered item: waits for its values, runs it with <paramref name="run"/>, and sends the result with
    /// its values. A data lane that fails fails this item alone, with an error result. Nothing is sent once the link
    /// has closed.
    /// </summary>
    public async Task AnswerAsync(
        Delivery delivery, Func<Work, ReceivedValues, CancellationToken, Task<(WorkResult Result, IReadOnlyList<ReadOnlyMemory<byte>> Blobs)>> run, CancellationToken cancellationToken)
    {
        try
        {
            var (result, blobs) = await RunAsync(delivery, run, cancellationToken).ConfigureAwait(false);
            await writer.WriteUnitAsync(Units.Of(new EngineMessage { Result = result }, blobs), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException or IOException)
        {
            // The link is over; whoever reads it reports why.
        }
    }

    /// <summary>Stops heartbeating, closes the data lanes this controller granted, and ends the call.</summary>
    public async ValueTask DisposeAsync()
    {
        await open.CancelAsync().ConfigureAwait(false);
        await heartbeats.ConfigureAwait(false);

        // A lane the controller handed over would otherwise outlive it, beyond the reach of a revocation the next controller reads.
        await lanes.DisposeAsync().ConfigureAwait(false);
        call.Dispose();
        open.Dispose();
    }

    private async Task<(WorkResult Result, IReadOnlyList<ReadOnlyMemory<byte>> Blobs)> RunAsync(
        Delivery delivery, Func<Work, ReceivedValues, CancellationToken, Task<(WorkResult Result, IReadOnlyList<ReadOnlyMemory<byte>> Blobs)>> run, CancellationToken cancellationToken)
    {
        var item = delivery.Work;
        try
        {
            var values = delivery.Values ?? await lanes.ReceiveAsync(item, cancellationToken).ConfigureAwait(false);
            var (result, blobs) = await run(item, values, cancellationToken).ConfigureAwait(false);
            if (!item.LaneId.IsEmpty && blobs.Count > 0 && result.Reply?.KindCase == EngineReply.KindOneofCase.Values)
            {
                // The values go on the client's lane, end to end; the reply only says which transfer they are.
                await lanes.SendAsync(item, result.Reply.Values.Values, blobs, cancellationToken).ConfigureAwait(false);
                result.Reply.Values = new ValuesReply { LaneTransfer = item.LaneTransfer };
                blobs = [];
            }

            return (result, blobs);
        }
        catch (LaneException e)
        {
            var error = new RemoteError { EngineId = EngineId, Type = typeof(LaneException).FullName!, Message = e.Message };
            return (new WorkResult { WorkId = item.WorkId, Reply = new EngineReply { Error = error } }, []);
        }
    }

    private static bool IsPushOnLane(Work work) => work.Request?.KindCase == EngineRequest.KindOneofCase.Push && !work.LaneId.IsEmpty;

    /// <summary>
    /// Where the values of <paramref name="work"/> are received: their arrays, allocated now; nothing for a push whose
    /// values come on a data lane; null for values a client sent malformed, which fail that item alone (their data is
    /// dropped), never the link.
    /// </summary>
    private ReceivedValues? Receive(Work work)
    {
        if (IsPushOnLane(work))
        {
            return ReceivedValues.None;
        }

        try
        {
            return new ReceivedValues(ValuesOf(work.Request), work.BlobLengths);
        }
        catch (RpcException e)
        {
            var failed = new EngineMessage
            {
                Result = new WorkResult
                {
                    WorkId = work.WorkId,
                    Error = new RemoteError { EngineId = EngineId, Type = e.StatusCode.ToString(), Message = e.Status.Detail },
                },
            };
            _ = writer.WriteAsync(failed, open.Token).ContinueWith(
                static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return null;
        }
    }

    /// <summary>The values of a request that arrive as blobs after it, in order.</summary>
    private static IEnumerable<NamedValue> ValuesOf(EngineRequest? request) => request?.KindCase switch
    {
        EngineRequest.KindOneofCase.Push => request.Push.Values,
        EngineRequest.KindOneofCase.Apply => request.Apply.Function.Captured.Concat(request.Apply.Arguments),
        EngineRequest.KindOneofCase.Tasks => ValuesOf(request.Tasks),
        _ => [],
    };

    /// <summary>A batch's values in order, each task's pushed values, captured values and arguments: one list a batch, not iterators a task.</summary>
    private static List<NamedValue> ValuesOf(TaskBatch batch)
    {
        var values = new List<NamedValue>();
        foreach (var task in batch.Tasks)
        {
            values.AddRange(task.Push);
            if (task.Function is { } apply)
            {
                values.AddRange(apply.Function.Captured);
                values.AddRange(apply.Arguments);
            }
        }

        return values;
    }

    private async Task HeartbeatAsync(TimeSpan period, TimeProvider time)
    {
        long sequence = 0;
        try
        {
            while (!open.IsCancellationRequested)
            {
                await Task.Delay(period, time, open.Token).ConfigureAwait(false);
                await writer.WriteAsync(new EngineMessage { Heartbeat = new Heartbeat { Sequence = ++sequence } }, open.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException or IOException)
        {
            // The link is over; whoever reads it reports why.
        }
    }

    /// <summary>A work item as delivered: its values, received with it, or null when they come on a data lane.</summary>
    public readonly record struct Delivery(Work Work, ReceivedValues? Values);

    /// <summary>Results and heartbeats share the request stream; one write at a time.</summary>
    private sealed class SerializedWriter(IClientStreamWriter<EngineMessage> inner)
    {
        private readonly SemaphoreSlim turn = new(1, 1);

        public Task WriteAsync(EngineMessage message, CancellationToken cancellationToken) => WriteUnitAsync([message], cancellationToken);

        /// <summary>Writes several messages with nothing in between (a result and its values).</summary>
        public async Task WriteUnitAsync(IEnumerable<EngineMessage> messages, CancellationToken cancellationToken)
        {
            await turn.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var message in messages)
                {
                    await inner.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                turn.Release();
            }
        }

        public async Task CompleteAsync()
        {
            await turn.WaitAsync().ConfigureAwait(false);
            try
            {
                await inner.CompleteAsync().ConfigureAwait(false);
            }
            finally
            {
                turn.Release();
            }
        }
    }
}

using CapCluster.Controller.Internal.Tasks;
using CapCluster.Controller.Internal.Transport;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal;

/// <summary>
/// The load-balanced task interface: submissions arrive in batches on a client's long-lived stream,
/// and the results of its tasks go back on it in batches as they finish. A caller fetches, waits on,
/// aborts and clears only its own tasks and those of capabilities derived from its capability; any
/// other id is refused as not found, and audited.
/// </summary>
internal sealed class TaskFarmService(Tasks.TaskFarm farm, AuditLog audit, TimeProvider time, ILogger logger) : Protocol.V1.TaskFarm.TaskFarmBase
{
    public override Task<QueueStatusReply> QueueStatus(QueueStatusRequest request, ServerCallContext context) =>
        Task.FromResult(farm.Status(CallerOf(CallContext.Of(context))));

    public override Task Tasks(IAsyncStreamReader<TaskClientMessage> requestStream, IServerStreamWriter<TaskServerMessage> responseStream, ServerCallContext context) =>
        TasksAsync(requestStream, responseStream, CallContext.Of(context));

    public override Task<GetResultsReply> GetResults(GetResultsRequest request, ServerCallContext context) => GetResultsAsync(request, CallContext.Of(context));

    public override Task<AbortReply> Abort(AbortRequest request, ServerCallContext context)
    {
        var call = CallContext.Of(context);
        return GuardedAsync(call, async () => new AbortReply { Aborted = { await farm.AbortAsync(CallerOf(call), request.TaskIds).ConfigureAwait(false) } });
    }

    public override Task<ClearReply> Clear(ClearRequest request, ServerCallContext context)
    {
        var call = CallContext.Of(context);
        return GuardedAsync(call, async () => new ClearReply { Cleared = await farm.ClearAsync(CallerOf(call), request.TaskIds).ConfigureAwait(false) });
    }

    public override Task<CheckReply> Check(CheckRequest request, ServerCallContext context) => CapabilityCheckHandler.Check(context);

    private static CapabilityRecord CallerOf(CallContext context) =>
        CallItems.CapabilityOf(context) ?? throw ControllerErrors.NotAllowed("the call carries no task capability", null);

    /// <summary>Runs <paramref name="call"/>; an id the caller may not use becomes NOT_FOUND, with an audit record saying whose it was.</summary>
    private async Task<T> GuardedAsync<T>(CallContext context, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (TaskNotHeldException e)
        {
            Refused(context.Peer, CallItems.FingerprintOf(context), CallerOf(context), context.MethodName, [e.AuditReason]);
            throw new RpcException(new Status(StatusCode.NotFound, e.Message));
        }
    }

    /// <summary>One audit record for a call's refusals (aggregated per peer and reason by the audit log).</summary>
    private void Refused(string peer, string? fingerprint, CapabilityRecord caller, string method, IReadOnlyList<string> reasons)
    {
        var reason = reasons.Count == 1 ? reasons[0] : $"{reasons.Count} refusals: {string.Join("; ", reasons.Take(8))}{(reasons.Count > 8 ? "; ..." : "")}";
        audit.Append(new AuditRecord(time.GetUtcNow(), peer, fingerprint, caller.Id, caller.Label, CapClusterMethods.TaskFarmService, method, AuditRecord.Refused, reason));
        ControllerLog.CallRefused(logger, CapClusterMethods.TaskFarmService, method, peer, caller.Id, reason);
    }

    private async Task TasksAsync(IAsyncStreamReader<TaskClientMessage> requests, IServerStreamWriter<TaskServerMessage> responses, CallContext caller)
    {
        var subscriber = new TaskSubscriber();
        var writeTurn = new SemaphoreSlim(1, 1);
        var results = ForwardResultsAsync(subscriber, responses, writeTurn, caller.CancellationToken);

        // Submissions whose acceptance waits for the journal. The next submission is read meanwhile: its tasks run, and
        // the journal's next group commit takes it with the others, rather than one commit per submission in turn.
        var acknowledging = new List<Task>();
        try
        {
            while (await requests.MoveNext(caller.CancellationToken).ConfigureAwait(false))
            {
                var message = requests.Current;
                if (message.KindCase != TaskClientMessage.KindOneofCase.Submit)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"a task stream does not take {message.KindCase}"));
                }

                var outcome = farm.Submit(message.Submit.Tasks, subscriber, CallerOf(caller));
                if (outcome.AuditedRefusals.Count > 0)
                {
                    Refused(caller.Peer, CallItems.FingerprintOf(caller), CallerOf(caller), "Tasks", outcome.AuditedRefusals);
                }

                acknowledging.Add(AcknowledgeAsync(outcome, responses, writeTurn, caller.CancellationToken));
                if (acknowledging.Count >= MaxUnacknowledged)
                {
                    // A client that submits faster than the journal writes waits here, by HTTP/2 flow control.
                    await Task.WhenAny(acknowledging).ConfigureAwait(false);
                    await Done(acknowledging).ConfigureAwait(false);
                }
            }

            await Task.WhenAll(acknowledging).ConfigureAwait(false);
        }
        finally
        {
            subscriber.Close();
            await results.ConfigureAwait(false);
            // Failed ones ended the stream already (their failure, the client gone, is the stream's).
            await Task.WhenAll(acknowledging).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    // Submissions a stream may have waiting for the journal before it reads no more.
    private const int MaxUnacknowledged = 64;

    /// <summary>Removes the finished acknowledgements, and throws the first failure among them.</summary>
    private static async Task Done(List<Task> acknowledging)
    {
        foreach (var finished in acknowledging.Where(t => t.IsCompleted).ToList())
        {
            acknowledging.Remove(finished);
            await finished.ConfigureAwait(false);
        }
    }

    /// <summary>Answers a submission once its tasks are journaled (at once without a journal): accepted, or refused saying why.</summary>
    private static async Task AcknowledgeAsync(SubmitOutcome outcome, IServerStreamWriter<TaskServerMessage> responses, SemaphoreSlim writeTurn, CancellationToken cancellationToken)
    {
        var accepted = outcome.Accepted;
        if (await outcome.Durable.ConfigureAwait(false) is { } notDurable)
        {
            // Not journaled, so not accepted: the client is told, and may submit again.
            accepted = [.. accepted.Select(a => a.TaskId == 0 ? a : new TaskAccepted { ClientRef = a.ClientRef, Refused = $"the controller could not journal the task: {notDurable}" })];
        }

        await writeTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await responses.WriteAsync(new TaskServerMessage { Accepted = new TaskAcceptedBatch { Tasks = { accepted } } }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            writeTurn.Release();
        }
    }

    /// <summary>Writes results as they finish, as many per message as are waiting.</summary>
    private static async Task ForwardResultsAsync(TaskSubscriber subscriber, IServerStreamWriter<TaskServerMessage> responses, SemaphoreSlim writeTurn, CancellationToken cancellationToken)
    {
        try
        {
            while (await subscriber.Results.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var batch = new TaskResultBatch();
                while (batch.Results.Count < 1024 && subscriber.Results.TryRead(out var finished))
                {
                    batch.Results.Add(finished);
                }

                await writeTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await responses.WriteAsync(new TaskServerMessage { Results = batch }, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    writeTurn.Release();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException or IOException)
        {
            // The client went away; its results stay retrievable by id.
        }
    }

    private async Task<GetResultsReply> GetResultsAsync(GetResultsRequest request, CallContext context)
    {
        // The farm bounds the wait by TaskFarmOptions.MaxResultWait; this only keeps the conversion in range.
        var wait = TimeSpan.FromMilliseconds(Math.Clamp(request.WaitMs, 0, int.MaxValue));
        var results = await GuardedAsync(context, () => farm.GetResultsAsync(CallerOf(context), request.TaskIds, wait, context.CancellationToken)).ConfigureAwait(false);
        return new GetResultsReply { Results = { results } };
    }
}

using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Client.Internal;

/// <summary>
/// After a reconnection: the results still awaited are asked for by id. A task the controller no longer knows (it
/// restarted without a journal) fails its wait with <see cref="TaskLostException"/>; a finished one completes; one
/// still queued or running is followed with long polls until it finishes, since its results come to the stream that
/// submitted it, which is gone.
/// </summary>
internal sealed partial class TaskSession
{
    /// <summary>Ids per GetResults call while catching up. Default 1024, well under the message size limit.</summary>
    private const int ResyncPart = 1024;

    /// <summary>How long one follow-up poll waits on the controller for unfinished tasks. 30 s.</summary>
    private static readonly TimeSpan FollowWait = TimeSpan.FromSeconds(30);

    /// <summary>Asks for every awaited result; follows the unfinished ones in the background.</summary>
    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        var awaited = results.Where(r => !r.Value.IsCompleted).Select(r => r.Key).Order().ToList();
        ClientLog.TaskStreamReopened(logger, connection.Capability.CapabilityId, awaited.Count);
        var unfinished = new List<long>();
        foreach (var part in awaited.Chunk(ResyncPart))
        {
            unfinished.AddRange(await QueryAsync(part, TimeSpan.Zero, cancellationToken).ConfigureAwait(false));
        }

        if (unfinished.Count > 0)
        {
            _ = FollowAsync(unfinished);
        }
    }

    /// <summary>Polls until every task in <paramref name="ids"/> has finished or is lost; a broken connection stops it (the next resync takes over).</summary>
    private async Task FollowAsync(List<long> ids)
    {
        try
        {
            while (ids.Count > 0)
            {
                var still = new List<long>();
                foreach (var part in ids.Chunk(ResyncPart))
                {
                    still.AddRange(await QueryAsync(part, FollowWait, lifetime.Token).ConfigureAwait(false));
                }

                ids = still;
            }
        }
        catch (Exception e) when (e is CapClusterException or OperationCanceledException)
        {
            // The connection went again, or the client was disposed: the pump resyncs or fails these waits.
        }
    }

    /// <summary>Completes the waits of the finished tasks in <paramref name="ids"/>, fails the lost ones, returns the rest.</summary>
    private async Task<IReadOnlyList<long>> QueryAsync(IReadOnlyList<long> ids, TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            var request = new GetResultsRequest { TaskIds = { ids }, WaitMs = (long)wait.TotalMilliseconds };
            var reply = await connection.CallAsync(o => connection.TaskFarm.GetResultsAsync(request, o), cancellationToken, idempotent: true).ConfigureAwait(false);
            return [.. reply.Results.Where(r => !Deliver(r)).Select(r => r.TaskId)];
        }
        catch (ControllerCallException e) when (e.StatusCode == StatusCode.NotFound && ids.Count > 1)
        {
            // One unknown id fails the whole call: ask one by one, a few at a time, to tell which.
            var rest = new System.Collections.Concurrent.ConcurrentBag<long>();
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (id, ct) =>
            {
                foreach (var left in await QueryAsync([id], TimeSpan.Zero, ct).ConfigureAwait(false))
                {
                    rest.Add(left);
                }
            }).ConfigureAwait(false);
            return [.. rest];
        }
        catch (ControllerCallException e) when (e.StatusCode == StatusCode.NotFound)
        {
            if (results.TryGetValue(ids[0], out var waiting))
            {
                ClientLog.TaskLost(logger, ids[0], e.Message);
                waiting.TrySetException(ClientErrors.TaskLost(ids[0], e, connection.Capability));
            }

            return [];
        }
    }

    /// <summary>Completes a finished task's wait and feeds its result; false when it has not finished.</summary>
    private bool Deliver(TaskResult result)
    {
        if (result.State is not (TaskState.Succeeded or TaskState.Failed or TaskState.Aborted))
        {
            return false;
        }

        var outcome = new TaskOutcome(result);
        if (results.TryGetValue(result.TaskId, out var waiting) && waiting.TrySetResult(outcome))
        {
            feed.Offer(outcome);
        }

        return true;
    }
}

using CapCluster.Controller.Internal.Lanes;
using CapCluster.Controller.Internal.Tasks;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Controller.Internal;

/// <summary>
/// The load-balanced task interface: submissions arrive in batches on a client's long-lived stream,
/// and the results of its tasks go back on it in batches as they finish. Any client holding a task
/// capability of this controller can fetch results by id.
/// </summary>
internal sealed class TaskFarmService(TaskFarm farm, StreamLaneHost streams)
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromHours(1);

    public void Map(GrpcRouter router)
    {
        router.MapUnary(CapClusterMethods.QueueStatus, (_, _) => Task.FromResult(farm.Status()));
        router.MapDuplex(CapClusterMethods.Tasks, (requests, responses, context) => TasksAsync(requests, responses, StreamCaller.Of(context)));
        router.MapUnary(CapClusterMethods.TasksOpenStream, (_, context) => Task.FromResult(streams.Grant(context, CapClusterMethods.Tasks, TasksAsync)));
        router.MapUnary(CapClusterMethods.GetResults, GetResultsAsync);
        router.MapUnary(CapClusterMethods.Abort, (request, _) => Task.FromResult(new AbortReply { Aborted = { farm.Abort(request.TaskIds) } }));
        CapabilityCheckHandler.Map(router, CapClusterMethods.TaskFarmCheck);
        router.MapUnary(CapClusterMethods.ClearResults, (request, _) => Task.FromResult(new ClearReply { Cleared = farm.Clear(request.TaskIds) }));
    }

    private async Task TasksAsync(IAsyncStreamReader<TaskClientMessage> requests, IServerStreamWriter<TaskServerMessage> responses, StreamCaller caller)
    {
        var subscriber = new TaskSubscriber();
        var writeTurn = new SemaphoreSlim(1, 1);
        var results = ForwardResultsAsync(subscriber, responses, writeTurn, caller.CancellationToken);
        try
        {
            while (await requests.MoveNext(caller.CancellationToken).ConfigureAwait(false))
            {
                var message = requests.Current;
                if (message.KindCase != TaskClientMessage.KindOneofCase.Submit)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"a task stream does not take {message.KindCase}"));
                }

                var accepted = farm.Submit(message.Submit.Tasks, subscriber, caller.Capability);
                await writeTurn.WaitAsync(caller.CancellationToken).ConfigureAwait(false);
                try
                {
                    await responses.WriteAsync(new TaskServerMessage { Accepted = new TaskAcceptedBatch { Tasks = { accepted } } }, caller.CancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    writeTurn.Release();
                }
            }
        }
        finally
        {
            subscriber.Close();
            await results.ConfigureAwait(false);
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

    private async Task<GetResultsReply> GetResultsAsync(GetResultsRequest request, ServerCallContext context)
    {
        var wait = TimeSpan.FromMilliseconds(Math.Clamp(request.WaitMs, 0, (long)MaxWait.TotalMilliseconds));
        var results = await farm.GetResultsAsync(request.TaskIds, wait, context.CancellationToken).ConfigureAwait(false);
        return new GetResultsReply { Results = { results } };
    }
}

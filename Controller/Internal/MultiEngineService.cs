using CapCluster.Controller.Internal.Transport;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal;

/// <summary>Explicit control of every engine.</summary>
internal sealed partial class MultiEngineService(
    EngineRegistry registry, CapabilityRegistry capabilities, ControllerInfo controller, Action requestStop, ICallValueRoutes routes, CallBudgets budgets,
    AuditLog audit, TimeProvider time, ILogger logger) : MultiEngine.MultiEngineBase
{
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(5);

    // The longest a ListEngines call waits for a change: a bounded hold on a call, however long the caller asked for.
    private static readonly TimeSpan MaxListWait = TimeSpan.FromSeconds(60);

    public override Task<GetIdsReply> GetIds(GetIdsRequest request, ServerCallContext context) =>
        Task.FromResult(new GetIdsReply { Ids = { registry.SharedIds() } });

    public override Task<ListEnginesReply> ListEngines(ListEnginesRequest request, ServerCallContext context) => ListEnginesAsync(request, CallContext.Of(context));

    public override Task<PingReply> Ping(PingRequest request, ServerCallContext context) => PingAsync(request, CallContext.Of(context));

    public override Task<KillReply> Kill(KillRequest request, ServerCallContext context) => KillAsync(request, CallContext.Of(context));

    public override Task Session(IAsyncStreamReader<SessionMessage> requestStream, IServerStreamWriter<SessionMessage> responseStream, ServerCallContext context) =>
        SessionAsync(requestStream, responseStream, CallContext.Of(context));

    public override Task<CheckReply> Check(CheckRequest request, ServerCallContext context) => CapabilityCheckHandler.Check(context);

    public override Task<EngineQueuesReply> EngineQueues(EngineQueuesRequest request, ServerCallContext context) =>
        Task.FromResult(new EngineQueuesReply
        {
            Queues =
            {
                TargetResolver.Resolve(registry, request.Targets, work: false).Select(s => new EngineQueue
                {
                    EngineId = s.Id,
                    Queued = s.QueueLength,
                    Running = s.InFlight,
                    Completed = s.Completed,
                }),
            },
        });

    /// <summary>Drops the calls waiting in the engines' queues made with the caller's capability or one derived from it, no one else's.</summary>
    public override Task<ClearQueueReply> ClearQueue(ClearQueueRequest request, ServerCallContext context)
    {
        var call = CallContext.Of(context);
        var caller = CallItems.CapabilityOf(call)?.Id;
        return Task.FromResult(new ClearQueueReply
        {
            Cleared = TargetResolver.Resolve(registry, request.Targets, work: false)
                .Sum(s => s.ClearQueue($"a ClearQueue call from {call.Peer}", owner => caller is not null && capabilities.IsSelfOrDerivedFrom(owner, caller))),
        });
    }

    private async Task<ListEnginesReply> ListEnginesAsync(ListEnginesRequest request, CallContext context)
    {
        if (request.WaitMs > 0)
        {
            var wait = TimeSpan.FromMilliseconds(Math.Min(request.WaitMs, MaxListWait.TotalMilliseconds));
            try
            {
                await registry.ChangedAfter(request.ChangedSince).WaitAsync(wait, time, context.CancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Nothing changed: the caller gets the same list and version, and asks again.
            }
        }

        // The version is read before the list: a change between the two shows in the list and makes the next wait return at once.
        var reply = new ListEnginesReply { Controller = controller, Version = registry.Version };
        foreach (var engine in registry.Snapshot())
        {
            reply.Engines.Add(new EngineInfo
            {
                Id = engine.Id,
                Host = engine.Info.Host,
                Pid = engine.Info.Pid,
                State = engine.State,
                Version = engine.Info.Version,
                Cores = engine.Info.Cores,
                LastHeartbeatUnixMs = engine.LastHeartbeat.ToUnixTimeMilliseconds(),
                RegisteredUnixMs = engine.Registered.ToUnixTimeMilliseconds(),
                QueueLength = engine.QueueLength + engine.InFlight,
                Completed = engine.Completed,
                Properties = { engine.Info.Properties },
                Serves = engine.Serves ?? string.Empty,
            });
        }

        return reply;
    }

    private async Task<PingReply> PingAsync(PingRequest request, CallContext context)
    {
        var engines = TargetResolver.Resolve(registry, request.Targets, work: false);
        var results = await Task.WhenAll(engines.Select(s => s.Enqueue(CallItems.CapabilityOf(context)?.Id ?? "", id => new Work { WorkId = id, Ping = new Ping { Payload = request.Payload } })))
            .WaitAsync(context.CancellationToken).ConfigureAwait(false);
        var reply = new PingReply();
        foreach (var result in results.Select(r => r.Result))
        {
            if (result.KindCase != WorkResult.KindOneofCase.Pong)
            {
                throw new RpcException(new Status(StatusCode.Internal, $"engine {result.Error?.EngineId} answered a ping with {result.KindCase}"));
            }

            reply.Pongs.Add(result.Pong);
        }

        return reply;
    }

    private async Task<KillReply> KillAsync(KillRequest request, CallContext context)
    {
        var engines = TargetResolver.Resolve(registry, request.Targets, work: false);
        foreach (var engine in engines)
        {
            engine.Send(new ControllerMessage { Stop = new StopEngine { Reason = $"killed by {context.Peer}" } });
        }

        try
        {
            await Task.WhenAll(engines.Select(s => WhenCancelled(s.Ended))).WaitAsync(StopWait, context.CancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // An engine busy in user code may not read its stream: drop it; its process ends when it next reads.
            foreach (var engine in engines.Where(s => !s.Ended.IsCancellationRequested))
            {
                registry.Unregister(engine, $"it did not stop within {StopWait.TotalSeconds:0} s of being killed");
            }
        }
        if (request.Controller)
        {
            ControllerLog.StopRequested(logger, context.Peer);
            requestStop();
        }

        return new KillReply { Killed = { engines.Select(s => s.Id) } };
    }

    private static Task WhenCancelled(CancellationToken token)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => done.TrySetResult());
        return done.Task;
    }
}

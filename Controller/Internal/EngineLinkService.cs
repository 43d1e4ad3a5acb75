using CapCluster.Controller.Internal.Lanes;
using CapCluster.Protocol;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal;

/// <summary>
/// The engine end of the controller: one long-lived stream per engine, on which it
/// registers, heartbeats and returns results, and receives its id and its work.
/// </summary>
internal sealed class EngineLinkService(EngineRegistry registry, ControllerOptions options, StreamLaneHost streams, TimeProvider time, ILogger logger)
{
    public void Map(GrpcRouter router)
    {
        router.MapDuplex(CapClusterMethods.EngineConnect, (requests, responses, context) => ConnectAsync(requests, responses, StreamCaller.Of(context)));
        router.MapUnary(CapClusterMethods.EngineOpenStream, (_, context) => Task.FromResult(streams.Grant(context, CapClusterMethods.EngineConnect, ConnectAsync)));
        CapabilityCheckHandler.Map(router, CapClusterMethods.EngineCheck);
    }

    private async Task ConnectAsync(IAsyncStreamReader<EngineMessage> requests, IServerStreamWriter<ControllerMessage> responses, StreamCaller caller)
    {
        var register = await ReadRegistrationAsync(requests, caller.CancellationToken).ConfigureAwait(false);
        var session = registry.Register(register, caller.Peer, caller.CertificateSha256);
        session.Send(new ControllerMessage
        {
            Registered = new EngineRegistered
            {
                EngineId = session.Id,
                HeartbeatPeriodMs = (int)options.HeartbeatPeriod.TotalMilliseconds,
            },
        });

        var reason = "its connection closed";
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(caller.CancellationToken, session.Ended);
        var pump = session.PumpAsync(responses, caller.CancellationToken);
        try
        {
            // A result with blobs is complete once its chunks (sent right after it) have arrived.
            WorkResult? pending = null;
            ChunkBuffer? pendingChunks = null;
            while (await requests.MoveNext(reading.Token).ConfigureAwait(false))
            {
                var message = requests.Current;
                session.Heartbeat();
                switch (message.KindCase)
                {
                    case EngineMessage.KindOneofCase.Result when message.Result.BlobLengths.Count == 0:
                        session.CompleteWork(message.Result, []);
                        break;
                    case EngineMessage.KindOneofCase.Result:
                        pending = message.Result;
                        pendingChunks = new ChunkBuffer(message.Result.BlobLengths);
                        break;
                    case EngineMessage.KindOneofCase.Chunk when pending is not null && message.Chunk.CallId == pending.WorkId:
                        if (pendingChunks!.Add(message.Chunk))
                        {
                            session.CompleteWork(pending, pendingChunks.Chunks);
                            pending = null;
                        }

                        break;
                }
            }
        }
        catch (OperationCanceledException) when (reading.IsCancellationRequested)
        {
            reason = session.Ended.IsCancellationRequested ? "it was stopped" : "the controller is stopping";
        }
        catch (Exception e) when (e is RpcException or IOException)
        {
            reason = "its connection failed";
            ControllerLog.EngineStreamFailed(logger, e, caller.Peer);
        }
        finally
        {
            registry.Unregister(session, reason);
            await pump.ConfigureAwait(false);
        }
    }

    private async Task<RegisterEngine> ReadRegistrationAsync(IAsyncStreamReader<EngineMessage> requests, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(options.EngineRegistrationTimeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            if (await requests.MoveNext(timeout.Token).ConfigureAwait(false)
                && requests.Current.KindCase == EngineMessage.KindOneofCase.Register)
            {
                return requests.Current.Register;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"an engine must register within {options.EngineRegistrationTimeout.TotalSeconds:0.###} s"));
        }

        throw new RpcException(new Status(StatusCode.InvalidArgument, "an engine's first message must be its registration"));
    }
}

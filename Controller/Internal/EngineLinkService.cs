using CapCluster.Controller.Internal.Transport;
using CapCluster.Protocol;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal;

/// <summary>
/// The engine end of the controller: one long-lived stream per engine, on which it
/// registers, heartbeats and returns results, and receives its id and its work.
/// </summary>
internal sealed class EngineLinkService(EngineRegistry registry, ControllerOptions options, TimeProvider time, ILogger logger) : EngineLink.EngineLinkBase
{
    public override Task Connect(IAsyncStreamReader<EngineMessage> requestStream, IServerStreamWriter<ControllerMessage> responseStream, ServerCallContext context) =>
        ConnectAsync(requestStream, responseStream, CallContext.Of(context));

    public override Task<CheckReply> Check(CheckRequest request, ServerCallContext context) => CapabilityCheckHandler.Check(context);

    private async Task ConnectAsync(IAsyncStreamReader<EngineMessage> requests, IServerStreamWriter<ControllerMessage> responses, CallContext caller)
    {
        var register = await ReadRegistrationAsync(requests, caller.CancellationToken).ConfigureAwait(false);
        var engine = registry.Register(register, caller.Peer, CallItems.CertificateSha256(caller), CallItems.CapabilityOf(caller)?.Serves);
        engine.Send(new ControllerMessage
        {
            Registered = new EngineRegistered
            {
                EngineId = engine.Id,
                HeartbeatPeriodMs = (int)options.HeartbeatPeriod.TotalMilliseconds,
            },
        });

        var reason = "its connection closed";
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(caller.CancellationToken, engine.Ended);
        var pump = engine.PumpAsync(responses, caller.CancellationToken);
        try
        {
            // Every message the engine sends, each part of a long result too, shows it alive. An engine is trusted no more
            // than a client: values of no result, a result announced twice, or results whose values never come end its link.
            var results = new UnitReader<EngineMessage, RelayedBlobs>(
                requests, head => head.Result.BlobLengths.Count == 0 ? RelayedBlobs.None : new RelayedBlobs(head.Result.BlobLengths), strict: true, seen: _ => engine.Heartbeat());
            while (await results.MoveNext(reading.Token).ConfigureAwait(false))
            {
                if (results.Current.KindCase == EngineMessage.KindOneofCase.Result)
                {
                    engine.CompleteWork(results.Current.Result, results.Blobs!);
                }
            }
        }
        catch (OperationCanceledException) when (reading.IsCancellationRequested)
        {
            reason = engine.Ended.IsCancellationRequested ? "it was stopped" : "the controller is stopping";
        }
        catch (Exception e) when (e is RpcException or IOException)
        {
            reason = "its connection failed";
            ControllerLog.EngineStreamFailed(logger, e, caller.Peer);
        }
        finally
        {
            registry.Unregister(engine, reason);
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

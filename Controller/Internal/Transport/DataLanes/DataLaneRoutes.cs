using CapCluster.Controller.Internal.Transport;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Google.Protobuf;

namespace CapCluster.Controller.Internal.Transport.DataLanes;

/// <summary>
/// The data lanes of MultiEngine calls: a client holding a MultiEngine capability that may push or pull asks for a
/// lane to one engine (<see cref="GrantAsync"/>); bulk values then travel end to end between the two: on one
/// connection the controller hands to an engine on its host (a Unix socket, without TLS, when the client is on that
/// host too), or spliced on the data port. A call that names lanes becomes work on them here (<see cref="WorkFor"/>),
/// so the MultiEngine service never sees a lane.
/// </summary>
internal sealed class DataLaneRoutes(EngineRegistry registry, LaneBroker broker, Func<int> dataPort, string? handoffSocket) : ICallValueRoutes
{
    /// <summary>A push on lanes announces the bytes it sends on them; the session's budget checks them before any lane carries one.</summary>
    public long BytesBesideSession(EngineCall call) => call.LaneBytes;

    /// <summary>
    /// Serves <c>OpenLane</c>, the MultiEngine method that grants a lane (gated and audited like the others): grants a
    /// lane to the engine the client names, and tells the engine to expect its other end.
    /// </summary>
    /// <exception cref="RpcException">FAILED_PRECONDITION without a capability; NOT_FOUND for an engine not registered; the broker's budget refusals.</exception>
    public Task<OpenLaneReply> GrantAsync(OpenLaneRequest request, CallContext context)
    {
        if (CallItems.CapabilityOf(context) is not { } capability)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "data lanes need a capability-checked connection"));
        }

        var engine = registry.Find(request.EngineId)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"engine {request.EngineId} is not registered with the controller"));
        var certificateSha256 = CallItems.CertificateSha256(context);
        var grant = broker.Grant(engine, capability, context.Peer, Convert.ToHexStringLower(certificateSha256));
        var laneId = ByteString.CopyFrom(grant.Id);
        var port = dataPort();
        engine.Send(new ControllerMessage
        {
            OpenLane = new Protocol.V1.OpenLane
            {
                LaneId = laneId,
                DataPort = port,
                ClientCertificateSha256 = ByteString.CopyFrom(certificateSha256),
                HandoffSocket = handoffSocket ?? "",
            },
        });
        return Task.FromResult(new OpenLaneReply
        {
            LaneId = laneId,
            DataPort = port,
            EngineCertificateSha256 = ByteString.CopyFrom(engine.CertificateSha256),
            LocalSocket = handoffSocket ?? "",
        });
    }

    /// <summary>
    /// What <paramref name="call"/> becomes on <paramref name="engine"/> (see <see cref="ICallValueRoutes.WorkFor"/>): a
    /// work item, given its id, naming the data lane the call names for that engine (after checking it was granted to this capability towards that engine), or none.
    /// A push on a lane is announced to the engine now, ahead of its queue: the engine reads this transfer off the lane,
    /// and no other, of no more bytes.
    /// </summary>
    /// <exception cref="RpcException">PERMISSION_DENIED: the lane was not granted to this capability towards this engine.</exception>
    public Func<long, Work> WorkFor(EngineCall call, RegisteredEngine engine, CapabilityRecord? capability)
    {
        if (!call.Lanes.TryGetValue(engine.Id, out var lane))
        {
            return id => new Work { WorkId = id, Request = call.Request };
        }

        if (capability is null || !broker.IsLaneOf(lane.Span, engine.Id, capability.Id))
        {
            throw ControllerErrors.NotAllowed($"the data lane the call names for engine {engine.Id} was not granted to this capability", capability?.Id);
        }

        if (call.Request?.KindCase == EngineRequest.KindOneofCase.Push)
        {
            engine.Send(new ControllerMessage { Expect = new ExpectTransfer { LaneId = lane, Transfer = call.CallId, MaxBytes = call.LaneBytes } });
        }

        return id => new Work { WorkId = id, Request = call.Request, LaneId = lane, LaneTransfer = call.CallId };
    }
}

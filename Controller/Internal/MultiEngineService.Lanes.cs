using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Google.Protobuf;

namespace CapCluster.Controller.Internal;

/// <summary>
/// Data lanes: a client holding a MultiEngine capability that may push or pull asks for a lane
/// to one engine; bulk values then travel end to end between the two: on one connection the controller hands
/// to an engine on its host (a Unix socket, without TLS, when the client is on that host too), or spliced on the data port.
/// </summary>
internal sealed partial class MultiEngineService
{
    private Task<OpenLaneReply> GrantLane(OpenLaneRequest request, CallContext context)
    {
        if (CallItems.CapabilityOf(context) is not { } capability)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "data lanes need a capability-checked connection"));
        }

        var engine = registry.Find(request.EngineId)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"engine {request.EngineId} is not registered with the controller"));
        var certificateSha256 = CallItems.CertificateSha256(context);
        var grant = lanes.Grant(engine, capability, context.Peer, Convert.ToHexStringLower(certificateSha256));
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

    /// <summary>The lane a call names for <paramref name="engine"/>, after checking it was granted to this capability towards that engine; empty when none.</summary>
    private ByteString LaneFor(EngineCall call, RegisteredEngine engine, CapabilityRecord? capability)
    {
        if (!call.Lanes.TryGetValue(engine.Id, out var lane))
        {
            return ByteString.Empty;
        }

        return capability is not null && lanes.IsLaneOf(lane.Span, engine.Id, capability.Id)
            ? lane
            : throw ControllerErrors.NotAllowed($"the data lane the call names for engine {engine.Id} was not granted to this capability", capability?.Id);
    }
}

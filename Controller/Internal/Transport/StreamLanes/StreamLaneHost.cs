using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Controller.Internal.Transport;
using CapCluster.Protocol;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.StreamLanes;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal.Transport.StreamLanes;

/// <summary>
/// The controller's end of stream lanes. A service grants one from a gated OpenStream call (so the gate has
/// checked the capability, its allow-list and the certificate, and audited the call); the caller joins it on
/// the data port, and this host runs TLS as the server, accepting only the certificate the grant was made
/// with, then serves the same handler the HTTP/2 stream would run. A caller on this host with the
/// controller's own uid joins on the local socket instead (the kernel vouches for the uid, see
/// <see cref="LaneListener"/>), and the stream runs there without TLS. Accepted (with the path taken, local or
/// tls) and refused joins are audited; the gate tracks each lane under its capability, so a revocation closes it.
/// </summary>
internal sealed class StreamLaneHost(
    LaneBroker broker,
    CapabilityGate gate,
    AuditLog audit,
    X509Certificate2 serverCertificate,
    int maxMessageSize,
    Func<int> dataPort,
    string? localSocket,
    TimeProvider time,
    ILogger logger,
    CancellationToken stopping)
{
    private const string HandlerError = "the controller failed to process the stream (see its log)";

    /// <summary>
    /// Maps <paramref name="stream"/>'s grant: its lane then carries the stream to the handler the router has for it on
    /// HTTP/2, so no service names a lane.
    /// </summary>
    public void Map<TReq, TResp>(GrpcRouter router, StreamMethod<TReq, TResp> stream)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        router.MapUnary(stream.Grant, (_, context) => Task.FromResult(Grant(router, context, stream.Method)));
    }

    private OpenStreamReply Grant<TReq, TResp>(GrpcRouter router, CallContext context, Method<TReq, TResp> method)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        var grant = broker.GrantStream(context, method.ServiceName, method.Name, (socket, g) => ServeAsync(socket, g, router, method));
        return new OpenStreamReply { LaneId = ByteString.CopyFrom(grant.Id), DataPort = dataPort(), LocalSocket = localSocket ?? "" };
    }

    private async Task ServeAsync<TReq, TResp>(
        Socket socket,
        StreamGrant grant,
        GrpcRouter router,
        Method<TReq, TResp> method)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        StreamLane<TResp, TReq> lane;
        try
        {
            lane = StreamLaneEnds.Accept(method, socket, serverCertificate, LaneOptions.PinnedTo(grant.CertificateSha256), maxMessageSize, grant.Describe());
        }
        catch (LaneException e)
        {
            Audit(grant, AuditRecord.Refused, e.Message);
            ControllerLog.LaneRefused(logger, grant.Peer, e.Message);
            return;
        }

        try
        {
            Audit(grant, AuditRecord.Accepted, $"stream lane for {method.Name}, path={(lane.IsLocal ? "local" : "tls")}");
        }
        catch (AuditWriteException e)
        {
            // A stream the audit log cannot record is not served.
            ControllerLog.AuditWriteFailed(logger, e.Message);
            lane.Finish(new Status(StatusCode.Unavailable, e.Message));
            return;
        }

        ControllerLog.StreamLaneOpened(logger, grant.IdHex[..8], method.FullName, grant.Peer);
        Func<bool> isOpen = () => !lane.Closed.IsCancellationRequested;
        var connectionId = "stream:" + grant.IdHex;
        if (grant.Capability is { } capability)
        {
            gate.Track(capability.Id, connectionId, new LiveConnection(grant.Peer, grant.Service, grant.Method, grant.Fingerprint, isOpen, lane.Abort));
        }

        using var ending = CancellationTokenSource.CreateLinkedTokenSource(lane.Closed, stopping);
        try
        {
            var context = grant.GrantedBy.ForStreamLane(method.FullName, new StreamLaneEnd(connectionId, ending.Token, isOpen, lane.Abort));
            await router.ServeDuplexAsync(method, lane, lane, context).ConfigureAwait(false);
            lane.Finish(Status.DefaultSuccess);
        }
        catch (RpcException e)
        {
            lane.Finish(e.Status);
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested)
        {
            lane.Finish(stopping.IsCancellationRequested
                ? new Status(StatusCode.Unavailable, "the controller is stopping")
                : new Status(StatusCode.Cancelled, $"{grant.Describe()} was closed"));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ControllerLog.StreamLaneFailed(logger, e, grant.IdHex[..8], method.FullName);
            lane.Finish(new Status(StatusCode.Unknown, HandlerError));
        }
    }

    private void Audit(StreamGrant grant, string outcome, string reason)
    {
        audit.Append(new AuditRecord(time.GetUtcNow(), grant.Peer, grant.Fingerprint, grant.Capability?.Id, grant.Capability?.Label,
            grant.Service, "Stream", outcome, reason));
    }
}

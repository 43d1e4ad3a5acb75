using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Protocol;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal.Lanes;

/// <summary>
/// The controller's end of stream lanes. A service grants one from a gated OpenStream call (so the gate has
/// checked the capability, its allow-list and the certificate, and audited the call); the caller joins it on
/// the data port, and this host runs TLS as the server, accepting only the certificate the grant was made
/// with, then serves the same handler the HTTP/2 stream would run. Accepted and refused joins are audited;
/// the gate tracks each lane under its capability, so a revocation closes it.
/// </summary>
internal sealed class StreamLaneHost(
    LaneBroker broker,
    CapabilityGate gate,
    AuditLog audit,
    X509Certificate2 serverCertificate,
    int maxMessageSize,
    Func<int> dataPort,
    TimeProvider time,
    ILogger logger,
    CancellationToken stopping)
{
    private const string HandlerError = "the controller failed to process the stream (see its log)";

    /// <summary>Grants the caller of <paramref name="context"/> a stream lane for <paramref name="method"/>, served by <paramref name="handler"/>.</summary>
    public OpenStreamReply Grant<TReq, TResp>(
        CallContext context,
        Method<TReq, TResp> method,
        Func<IAsyncStreamReader<TReq>, IServerStreamWriter<TResp>, StreamCaller, Task> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        var grant = broker.GrantStream(StreamCaller.Of(context), method.ServiceName, method.Name, (socket, g) => ServeAsync(socket, g, method, handler));
        return new OpenStreamReply { LaneId = ByteString.CopyFrom(grant.Id), DataPort = dataPort() };
    }

    private async Task ServeAsync<TReq, TResp>(
        Socket socket,
        StreamGrant grant,
        Method<TReq, TResp> method,
        Func<IAsyncStreamReader<TReq>, IServerStreamWriter<TResp>, StreamCaller, Task> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        var caller = grant.Caller;
        StreamLane<TResp, TReq> lane;
        try
        {
            lane = StreamLanes.Accept(method, socket, serverCertificate, LaneOptions.PinnedTo(caller.CertificateSha256), maxMessageSize, grant.Describe());
        }
        catch (LaneException e)
        {
            Audit(grant, AuditRecord.Refused, e.Message);
            ControllerLog.LaneRefused(logger, caller.Peer, e.Message);
            return;
        }

        try
        {
            Audit(grant, AuditRecord.Accepted, $"stream lane for {method.Name}");
        }
        catch (AuditWriteException e)
        {
            // A stream the audit log cannot record is not served.
            ControllerLog.AuditWriteFailed(logger, e.Message);
            lane.Finish(new Status(StatusCode.Unavailable, e.Message));
            return;
        }

        ControllerLog.StreamLaneOpened(logger, grant.IdHex[..8], method.FullName, caller.Peer);
        if (caller.Capability is { } capability)
        {
            gate.Track(capability.Id, "stream:" + grant.IdHex, new LiveConnection(
                caller.Peer, grant.Service, grant.Method, caller.Fingerprint, () => !lane.Closed.IsCancellationRequested, lane.Abort));
        }

        using var ending = CancellationTokenSource.CreateLinkedTokenSource(lane.Closed, stopping);
        try
        {
            await handler(lane, lane, caller with { CancellationToken = ending.Token }).ConfigureAwait(false);
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
        var caller = grant.Caller;
        audit.Append(new AuditRecord(time.GetUtcNow(), caller.Peer, caller.Fingerprint, caller.Capability?.Id, caller.Capability?.Label,
            grant.Service, "Stream", outcome, reason));
    }
}

using System.Net.Sockets;
using System.Security.Cryptography;
using CapCluster.Controller.Internal.Transport.StreamLanes;
using CapCluster.Protocol;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.StreamLanes;
using CapCluster.Security;

namespace CapCluster.Controller.Internal.Transport;

/// <summary>
/// Stream lanes: a gated OpenStream call grants one, for one stream of its service, to the certificate it was
/// made with; the caller joins it on the data port within the join timeout, once. The controller then serves
/// the stream itself (see <see cref="StreamLaneHost"/>).
/// </summary>
internal sealed partial class LaneBroker
{
    private readonly Dictionary<string, StreamGrant> streamGrants = new(StringComparer.Ordinal);

    public StreamGrant GrantStream(CallContext caller, string service, string method, Func<Socket, StreamGrant, Task> serve)
    {
        var grant = new StreamGrant(RandomNumberGenerator.GetBytes(LanePreamble.IdLength), caller, service, method, time.GetUtcNow() + joinTimeout, serve);
        lock (sync)
        {
            RefuseOverBudget(grant.Capability, grant.Peer, grant.Fingerprint, service, "OpenStream");
            streamGrants[grant.IdHex] = grant;
        }

        return grant;
    }

    private Task JoinStreamAsync(Socket socket, byte[] laneId, string peer)
    {
        StreamGrant? grant;
        lock (sync)
        {
            // A grant is used once: whoever joins first with its id, and the TLS handshake then checks it is the caller.
            if (streamGrants.Remove(Convert.ToHexStringLower(laneId), out grant) && time.GetUtcNow() > grant.JoinBy)
            {
                grant = null;
            }
        }

        if (grant is null)
        {
            Refuse(socket, new AuditRecord(time.GetUtcNow(), peer, null, null, null, null, "Stream", AuditRecord.Refused, "no such stream lane was granted, or it expired"));
            return Task.CompletedTask;
        }

        if (grant.Capability is { } capability && gate.WhyNotLive(capability.Id) is { } dead)
        {
            // Revoked or expired between the grant and the join: the grant went with it.
            Refuse(socket, new AuditRecord(time.GetUtcNow(), peer, grant.Fingerprint, capability.Id, capability.Label, grant.Service, "Stream", AuditRecord.Refused,
                $"{dead}; the stream lane for {grant.Method} was granted to it"));
            return Task.CompletedTask;
        }

        try
        {
            // On the local socket (the listener let only the controller's own uid join there) the stream runs without TLS.
            socket.Send([StreamLaneEnds.IsLocal(socket) ? LanePreamble.Local : LanePreamble.Spliced], SocketFlags.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            socket.Dispose();
            return Task.CompletedTask;
        }

        return grant.ServeAsync(socket);
    }

    /// <summary>Forgets stream grants nobody joined in time. Called under <c>sync</c>.</summary>
    private void SweepStreams(DateTimeOffset now)
    {
        foreach (var expired in streamGrants.Values.Where(g => now > g.JoinBy).ToList())
        {
            streamGrants.Remove(expired.IdHex);
        }
    }
}

using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using CapCluster.Controller.Internal.Transport.DataLanes;
using CapCluster.Protocol;
using CapCluster.Protocol.Lanes;
using CapCluster.Security;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal.Transport;

/// <summary>
/// Grants data lanes and pairs the two ends that join them. The ends' sockets are only ever used
/// with blocking calls: a socket used asynchronously once stays registered with the runtime's epoll
/// loop, and then every packet the kernel splices wakes a thread-pool worker that finds nothing to do. A lane exists only because a gated
/// OpenLane call granted it to one capability and one engine; an end that names an unknown,
/// expired or already-joined lane is refused and audited. When the engine's end joined on the local
/// socket, the client's connection is handed to it (<see cref="HandedLane"/>; a client that joined there too
/// gets a lane through the kernel only, path=local in the audit); otherwise the two are spliced (<see cref="LaneSplice"/>). Either way the lane is tracked by the gate under its capability
/// (a revocation closes it) and dies with its engine. Lanes granted or open (data and stream lanes alike) are
/// limited per capability and in all, so one holder cannot make the controller hold sockets and threads for ever more.
/// </summary>
internal sealed partial class LaneBroker(CapabilityGate gate, AuditLog audit, int maxPerCapability, int maxTotal, TimeSpan joinTimeout, TimeProvider time, ILogger logger)
{
    private readonly Lock sync = new();
    private readonly Dictionary<string, LaneGrant> grants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ILaneRelay> joined = new(StringComparer.Ordinal);

    public LaneGrant Grant(RegisteredEngine engine, CapabilityRecord capability, string clientPeer, string? clientFingerprint)
    {
        var grant = new LaneGrant(RandomNumberGenerator.GetBytes(LanePreamble.IdLength), engine, capability, clientPeer, clientFingerprint, time.GetUtcNow() + joinTimeout);
        lock (sync)
        {
            RefuseOverBudget(capability, clientPeer, clientFingerprint, CapClusterMethods.MultiEngineService, "OpenLane");
            grants[grant.IdHex] = grant;
        }

        return grant;
    }

    /// <summary>
    /// Throws RESOURCE_EXHAUSTED (audited) when <paramref name="capability"/>, or the controller, holds as many lanes
    /// granted or open as allowed. Called under <see cref="sync"/>.
    /// </summary>
    private void RefuseOverBudget(CapabilityRecord? capability, string peer, string? fingerprint, string service, string method)
    {
        var total = grants.Count + streamGrants.Count;
        var held = capability is null ? 0 : grants.Values.Count(g => g.Capability.Id == capability.Id) + streamGrants.Values.Count(g => g.Capability?.Id == capability.Id);
        var reason = total >= maxTotal ? $"{maxTotal} lanes are granted or open on this controller, the most allowed (--max-lanes)"
            : held >= maxPerCapability ? $"capability {capability!.Id} holds {maxPerCapability} lanes granted or open, the most allowed (--max-lanes-per-capability); dispose clients it no longer needs"
            : null;
        if (reason is null)
        {
            return;
        }

        audit.Append(new AuditRecord(time.GetUtcNow(), peer, fingerprint, capability?.Id, capability?.Label, service, method, AuditRecord.Refused, reason));
        throw ControllerErrors.OverBudget(reason, capability?.Id);
    }

    /// <summary>True when <paramref name="laneId"/> is a lane granted to <paramref name="capabilityId"/> towards <paramref name="engineId"/>, joining or joined.</summary>
    public bool IsLaneOf(ReadOnlySpan<byte> laneId, int engineId, string capabilityId)
    {
        lock (sync)
        {
            return grants.TryGetValue(Convert.ToHexStringLower(laneId), out var grant)
                && grant.Engine.Id == engineId && grant.Capability.Id == capabilityId;
        }
    }

    /// <summary>An end joined with a preamble for <paramref name="laneId"/>: refuse it, hold it for the other end, or splice the two and relay until the lane closes.</summary>
    public async Task JoinAsync(Socket socket, byte[] laneId, LaneRole role, string peer)
    {
        if (role == LaneRole.Stream)
        {
            await JoinStreamAsync(socket, laneId, peer).ConfigureAwait(false);
            return;
        }

        var key = Convert.ToHexStringLower(laneId);
        LaneGrant? grant;
        string? refusal = null;
        ILaneRelay? relay = null;
        lock (sync)
        {
            grant = grants.GetValueOrDefault(key);
            if (grant is null || (!joined.ContainsKey(key) && time.GetUtcNow() > grant.JoinBy))
            {
                refusal = "no such data lane was granted, or it expired";
            }
            else if (joined.ContainsKey(key) || (role == LaneRole.Client ? grant.ClientEnd : grant.EngineEnd) is not null)
            {
                refusal = $"the {role.ToString().ToLowerInvariant()} end of {grant.Describe()} has already joined";
            }
            else if (gate.WhyNotLive(grant.Capability.Id) is { } dead)
            {
                // Revoked or expired between the grant and the join: the grant went with it.
                refusal = $"{dead}; {grant.Describe()} was granted to it";
            }
            else
            {
                if (role == LaneRole.Client)
                {
                    grant.ClientEnd = socket;
                }
                else
                {
                    grant.EngineEnd = socket;
                }

                if (grant is { ClientEnd: { } client, EngineEnd: { } engine })
                {
                    relay = engine.AddressFamily == AddressFamily.Unix ? new HandedLane(client, engine) : new LaneSplice(client, engine);
                    joined[key] = relay;
                }
            }
        }

        if (refusal is not null)
        {
            Refuse(socket, peer, role, grant, refusal);
            return;
        }

        if (relay is not null)
        {
            await RunAsync(grant!, relay).ConfigureAwait(false);
        }
    }

    /// <summary>Refuses the ends of granted lanes that the other end did not join in time.</summary>
    public void Sweep()
    {
        var now = time.GetUtcNow();
        List<LaneGrant> expired;
        lock (sync)
        {
            SweepStreams(now);
            expired = [.. grants.Values.Where(g => now > g.JoinBy && !joined.ContainsKey(g.IdHex))];
            foreach (var grant in expired)
            {
                grants.Remove(grant.IdHex);
            }
        }

        foreach (var grant in expired)
        {
            var reason = $"the other end of {grant.Describe()} did not join within {joinTimeout.TotalSeconds:0.###} s";
            if (grant.ClientEnd is { } client)
            {
                Refuse(client, grant.ClientPeer, LaneRole.Client, grant, reason);
            }

            if (grant.EngineEnd is { } engine)
            {
                Refuse(engine, grant.Engine.Peer, LaneRole.Engine, grant, reason);
            }
        }
    }

    private async Task RunAsync(LaneGrant grant, ILaneRelay relay)
    {
        using var engineGone = grant.Engine.Ended.Register(relay.Abort);
        try
        {
            // Recorded before the ends are told: a lane the audit log cannot record is not opened.
            audit.Append(new AuditRecord(time.GetUtcNow(), grant.ClientPeer, grant.ClientFingerprint, grant.Capability.Id, grant.Capability.Label,
                CapClusterMethods.MultiEngineService, "Lane", AuditRecord.Accepted, $"data lane to engine {grant.Engine.Id}, {relay.How}, path={relay.Path}"));
            relay.Answer();
            gate.Track(grant.Capability.Id, "lane:" + grant.IdHex, new LiveConnection(
                grant.ClientPeer, CapClusterMethods.MultiEngineService, "Lane", grant.ClientFingerprint, () => relay.IsOpen, relay.Abort));
            ControllerLog.LaneJoined(logger, grant.IdHex[..8], relay.How, grant.Capability.Id, grant.Engine.Id);
            await relay.RunAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or AuditWriteException)
        {
            if (e is AuditWriteException)
            {
                ControllerLog.AuditWriteFailed(logger, e.Message);
            }

            relay.Abort();
            grant.ClientEnd?.Dispose();
            grant.EngineEnd?.Dispose();
        }
        finally
        {
            lock (sync)
            {
                joined.Remove(grant.IdHex);
                grants.Remove(grant.IdHex);
            }

            ControllerLog.LaneClosed(logger, grant.IdHex[..8], grant.Engine.Id);
        }
    }

    /// <summary>Audits the refusal of a connection to the data port, tells it why, and closes it.</summary>
    public void Refuse(Socket socket, string peer, LaneRole? role, LaneGrant? grant, string reason)
    {
        var service = role switch
        {
            LaneRole.Engine => CapClusterMethods.EngineLinkService,
            LaneRole.Client => CapClusterMethods.MultiEngineService,
            _ => null,
        };
        Refuse(socket, new AuditRecord(time.GetUtcNow(), peer, null, grant?.Capability.Id, grant?.Capability.Label, service, "Lane", AuditRecord.Refused, reason));
    }

    /// <summary>Audits <paramref name="refusal"/>, tells the connection why, and closes it.</summary>
    private void Refuse(Socket socket, AuditRecord refusal)
    {
        var (peer, reason) = (refusal.RemoteAddress ?? "unknown", refusal.Reason!);
        audit.Append(refusal);
        ControllerLog.LaneRefused(logger, peer, reason);
        try
        {
            var answer = new byte[1 + Encoding.UTF8.GetMaxByteCount(reason.Length)];
            answer[0] = LanePreamble.Refused;
            var length = 1 + Encoding.UTF8.GetBytes(reason, answer.AsSpan(1));
            socket.Send(answer.AsSpan(0, length), SocketFlags.None);
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // It went away first; the refusal is audited all the same.
        }
        finally
        {
            socket.Dispose();
        }
    }
}

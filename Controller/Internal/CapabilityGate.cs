using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using CapCluster.Protocol;
using CapCluster.Security;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal;

/// <summary>
/// The one place every call passes before it touches any queue: the client certificate
/// chains to this controller's CA; the capability it names exists, is not revoked or
/// expired, and grants this service and method; the secret presented matches. Every
/// refusal is audited with its reason; an accepted connection is audited once.
/// </summary>
internal sealed class CapabilityGate(
    CertificateAuthority authority,
    CapabilityRegistry registry,
    AuditLog audit,
    Task<int> enginePort,
    TimeProvider time,
    ILogger logger,
    int maxCallsPerCapability = int.MaxValue) : ICallAuthorizer
{
    // A client capability's calls in progress (a waiting GetResults, an open stream), so that one holder cannot make
    // the controller keep ever more of them; an engine's are not counted (every engine presents the one engine.cap).
    private readonly ConcurrentDictionary<string, StrongBox<int>> callsInProgress = new(StringComparer.Ordinal);
    private static readonly object CountedCall = new();

    // Chain building costs far more than the rest of the gate; a connection keeps its
    // certificate object, so the verdict is cached per certificate instance and dies
    // with the connection. Validity in time is re-checked on every call.
    private readonly ConditionalWeakTable<object, CertificateCheck> certificateChecks = new();
    private readonly ConditionalWeakTable<object, object> acceptedConnections = new();

    // Calls that change or end what others run or hold are audited every time, not only as a connection's first call.
    private static readonly HashSet<string> PrivilegedMethods = new(StringComparer.Ordinal) { "Kill", "ClearQueue", "Abort", "Clear", CapabilityMethods.OpenLane };

    // The open connections each capability was accepted on, so that a revocation can close them.
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, LiveConnection>> liveConnections = new(StringComparer.Ordinal);

    public async ValueTask AuthorizeAsync(CallContext context)
    {
        // Who is calling comes first, so that strangers learn nothing about services or ports.
        var certificate = context.ClientCertificate;
        var check = certificate is null
            ? authority.ValidateClientCertificate(null)
            : certificateChecks.GetValue(certificate, c => authority.ValidateClientCertificate((System.Security.Cryptography.X509Certificates.X509Certificate2)c));
        if (check.IsValid && certificate is not null && time.GetUtcNow().UtcDateTime > certificate.NotAfter.ToUniversalTime())
        {
            check = authority.ValidateClientCertificate(certificate);
        }

        if (!check.IsValid)
        {
            throw Refuse(context, check, null, ControllerErrors.CertificateRefused(check.Reason ?? "the client certificate was not accepted"));
        }

        var service = context.ServiceName;
        var iface = CapabilityInterfaces.InterfaceForService(service);
        var standard = iface is null && StandardServices.IsStandard(service);
        if (standard && registry.Find(check.CapabilityId!) is { } holder)
        {
            // Reflection and health answer any live capability on its own port, as Check does: they tell a holder
            // what the port serves and whether it is up, nothing of what others run or hold.
            iface = holder.Interface;
        }

        if (iface is null)
        {
            throw Refuse(context, check, null, ControllerErrors.ServiceRefused(StatusCode.Unimplemented, $"unknown service {service}", check.CapabilityId));
        }

        var onEnginePort = context.LocalPort == await enginePort.ConfigureAwait(false);
        if (onEnginePort != (iface == CapabilityInterfaces.Engine))
        {
            var port = onEnginePort ? "engine" : "client";
            throw Refuse(context, check, null, ControllerErrors.ServiceRefused(StatusCode.PermissionDenied, $"{service} is not served on the {port} port", check.CapabilityId));
        }

        var secret = CapabilityMetadata.ParseSecret(context.GetRequestHeader(CapabilityMetadata.HeaderName));
        // Check answers whether the capability is still accepted, so any live capability may call it.
        var method = standard || context.MethodName == CapabilityMethods.Check ? null : context.MethodName;
        var decision = registry.Check(check.CapabilityId!, iface, method, secret);
        if (decision.Refusal == CapabilityRefusal.Unknown)
        {
            // Perhaps issued by furlgen a moment ago: read the file if the watcher has not yet, and look again either way,
            // for the watcher may have read it between the first look and this one (it polls every 250 ms; a session
            // opened right after furlgen attenuate was refused as unknown once, in a full test run).
            registry.ReloadIfChanged();
            decision = registry.Check(check.CapabilityId!, iface, method, secret);
        }

        if (!decision.Allowed)
        {
            var reason = secret is null
                ? $"no capability secret was presented (metadata '{CapabilityMetadata.HeaderName}: {CapabilityMetadata.Scheme} <secret>')"
                : decision.Reason ?? decision.Refusal.ToString();
            throw Refuse(context, check, decision.Record, ControllerErrors.CapabilityRefused(decision.Refusal, reason, decision.Record?.Id ?? check.CapabilityId));
        }

        var record = decision.Record!;
        if (!string.Equals(record.CertificateSerial, certificate!.SerialNumber, StringComparison.OrdinalIgnoreCase))
        {
            throw Refuse(context, check, record, ControllerErrors.WrongCertificate($"the client certificate is not the one issued for capability {record.Id}", record.Id));
        }

        context.Items[CallItems.Capability] = record;
        Track(record.Id, context.ConnectionId, new LiveConnection(
            context.Peer, context.ServiceName, context.MethodName, check.CertificateFingerprint, () => context.ConnectionOpen, context.AbortConnection));
        var firstOfConnection = !acceptedConnections.TryGetValue(certificate, out _);
        if (firstOfConnection || PrivilegedMethods.Contains(context.MethodName))
        {
            // A call that cannot be recorded does not happen: the connection stays unaccepted, so its next call tries again.
            Record(new AuditRecord(time.GetUtcNow(), context.Peer, check.CertificateFingerprint, record.Id, record.Label, service, context.MethodName,
                AuditRecord.Accepted, firstOfConnection ? null : "privileged call"));
        }

        if (firstOfConnection)
        {
            acceptedConnections.AddOrUpdate(certificate, record);
            ControllerLog.ConnectionAccepted(logger, context.Peer, record.Id, record.Label ?? "-");
        }

        if (iface != CapabilityInterfaces.Engine)
        {
            var calls = callsInProgress.GetOrAdd(record.Id, _ => new StrongBox<int>());
            if (Interlocked.Increment(ref calls.Value) > maxCallsPerCapability)
            {
                Interlocked.Decrement(ref calls.Value);
                throw Refuse(context, check, record, ControllerErrors.OverBudget(
                    $"capability {record.Id} has {maxCallsPerCapability} calls in progress, the most allowed (--max-calls-per-capability); " +
                    "wait for many results in one call (TaskClient.BarrierAsync) rather than one call each", record.Id));
            }

            context.Items[CountedCall] = calls;
        }
    }

    /// <summary>Lets go of the call's place among its capability's calls in progress.</summary>
    public void CallEnded(CallContext context)
    {
        if (context.Items.TryGetValue(CountedCall, out var counted) && counted is StrongBox<int> calls)
        {
            Interlocked.Decrement(ref calls.Value);
        }
    }

    /// <summary>Remembers an open connection of a capability, so that a revocation or expiry closes it.</summary>
    public void Track(string capabilityId, string key, LiveConnection connection) =>
        liveConnections.GetOrAdd(capabilityId, _ => new(StringComparer.Ordinal)).TryAdd(key, connection);

    /// <summary>
    /// Closes every open connection of a capability that is now revoked, expired or gone from the registry
    /// (its next call is refused by <see cref="AuthorizeAsync"/>), with an audit record each; forgets closed connections.
    /// </summary>
    /// <returns>How many connections were closed.</returns>
    public int CloseConnectionsOfDeadCapabilities()
    {
        var closed = 0;
        var now = time.GetUtcNow();
        foreach (var (capabilityId, connections) in liveConnections)
        {
            foreach (var (connectionId, live) in connections)
            {
                if (!live.IsOpen())
                {
                    connections.TryRemove(connectionId, out _);
                }
            }

            var record = registry.Find(capabilityId);
            var reason = WhyNotLive(capabilityId);
            if (reason is null)
            {
                if (connections.IsEmpty)
                {
                    liveConnections.TryRemove(KeyValuePair.Create(capabilityId, connections));
                }

                continue;
            }

            liveConnections.TryRemove(capabilityId, out _);
            foreach (var live in connections.Values)
            {
                try
                {
                    audit.Append(new AuditRecord(now, live.Peer, live.CertificateFingerprint, capabilityId, record?.Label,
                        live.Service, live.Method, AuditRecord.Closed, reason + "; its connection was closed"));
                }
                catch (AuditWriteException e)
                {
                    // The connection is closed all the same: a revoked capability must not keep it for want of disk space.
                    ControllerLog.AuditWriteFailed(logger, e.Message);
                }

                ControllerLog.ConnectionClosed(logger, live.Peer, capabilityId, reason);
                live.Abort();
                closed++;
            }
        }

        return closed;
    }

    /// <summary>Why <paramref name="capabilityId"/> may no longer act (gone from the registry, revoked or expired), or null while it may.</summary>
    public string? WhyNotLive(string capabilityId) => CapabilityLiveness.WhyNot(capabilityId, registry.Find(capabilityId), time.GetUtcNow());

    /// <summary>
    /// Writes <paramref name="record"/>, or fails the call it records with FAILED_PRECONDITION naming the audit log: not
    /// UNAVAILABLE, which clients take for a controller out of reach and try again; this waits for its disk to be mended.
    /// </summary>
    private void Record(AuditRecord record)
    {
        try
        {
            audit.Append(record);
        }
        catch (AuditWriteException e)
        {
            ControllerLog.AuditWriteFailed(logger, e.Message);
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
    }

    /// <summary>
    /// A call this gate admitted was refused by its handler for what it sent (a malformed message, a length out of
    /// range, one nested too deep to parse): audited as refused, like the gate's own refusals.
    /// </summary>
    public void CallFailed(CallContext context, Status status)
    {
        var record = CallItems.CapabilityOf(context);
        var reason = $"{status.StatusCode}: {status.Detail}";
        try
        {
            audit.Append(new AuditRecord(time.GetUtcNow(), context.Peer, null, record?.Id, record?.Label, context.ServiceName, context.MethodName, AuditRecord.Refused, reason));
        }
        catch (AuditWriteException e)
        {
            // The call has ended already: nothing left to refuse.
            ControllerLog.AuditWriteFailed(logger, e.Message);
        }

        ControllerLog.CallRefused(logger, context.ServiceName, context.MethodName, context.Peer, record?.Id ?? "none", reason);
    }

    private RpcException Refuse(CallContext context, CertificateCheck? check, CapabilityRecord? record, RpcException refusal)
    {
        var reason = Refusals.Read(refusal)!.Reason;
        var capabilityId = record?.Id ?? check?.CapabilityId;
        audit.Append(new AuditRecord(
            time.GetUtcNow(), context.Peer, check?.CertificateFingerprint, capabilityId, record?.Label,
            context.ServiceName, context.MethodName, "refused", reason));
        ControllerLog.CallRefused(logger, context.ServiceName, context.MethodName, context.Peer, capabilityId, reason);
        return refusal;
    }
}

/// <summary>An open connection accepted for a capability: what the audit says of it, and how to close it.</summary>
internal sealed record LiveConnection(string Peer, string Service, string Method, string? CertificateFingerprint, Func<bool> IsOpen, Action Abort);

using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Controller.Internal;

/// <summary>
/// Every refusal the controller sends, built in one place: a gRPC status whose message says why, for people and
/// standard tools, and a <see cref="Refusal"/> (a trailer, or a session's <see cref="CallResult.Refusal"/>) that says
/// the same for programs. Clients map it to their exceptions in one place too (ClientErrors).
/// </summary>
internal static class ControllerErrors
{
    /// <summary>The client certificate was missing, not this controller's, or expired.</summary>
    public static RpcException CertificateRefused(string reason) =>
        Refused(StatusCode.Unauthenticated, RefusalKind.Certificate, reason, null);

    /// <summary>The service is unknown (<see cref="StatusCode.Unimplemented"/>) or not served on this port.</summary>
    public static RpcException ServiceRefused(StatusCode code, string reason, string? capabilityId) =>
        Refused(code, RefusalKind.Service, reason, capabilityId);

    /// <summary>The registry refused the capability the call presented, for <paramref name="refusal"/>.</summary>
    public static RpcException CapabilityRefused(CapabilityRefusal refusal, string reason, string? capabilityId) => refusal switch
    {
        CapabilityRefusal.Unknown or CapabilityRefusal.SecretMismatch => Refused(StatusCode.Unauthenticated, RefusalKind.Capability, reason, capabilityId),
        CapabilityRefusal.Revoked or CapabilityRefusal.Expired => Refused(StatusCode.PermissionDenied, RefusalKind.Capability, reason, capabilityId),
        _ => Refused(StatusCode.PermissionDenied, RefusalKind.NotAllowed, reason, capabilityId),
    };

    /// <summary>The certificate presented is not the one issued for the capability named.</summary>
    public static RpcException WrongCertificate(string reason, string capabilityId) =>
        Refused(StatusCode.Unauthenticated, RefusalKind.Certificate, reason, capabilityId);

    /// <summary>The capability does not allow what the call asks.</summary>
    public static RpcException NotAllowed(string reason, string? capabilityId) =>
        Refused(StatusCode.PermissionDenied, RefusalKind.NotAllowed, reason, capabilityId);

    /// <summary>A budget or limit of the controller is used up.</summary>
    public static RpcException OverBudget(string reason, string? capabilityId) =>
        Refused(StatusCode.ResourceExhausted, RefusalKind.Budget, reason, capabilityId);

    /// <summary>One refused operation of a MultiEngine session: its failure text and its refusal.</summary>
    public static CallResult SessionRefusal(long callId, RefusalKind kind, string reason, string? capabilityId, long submittedUnixUs) => new()
    {
        CallId = callId,
        EngineId = -1,
        Failure = Refusals.DetailPrefix + reason,
        Refusal = new Refusal { Kind = kind, Reason = reason, CapabilityId = capabilityId ?? string.Empty },
        Expected = 1,
        SubmittedUnixUs = submittedUnixUs,
    };

    private static RpcException Refused(StatusCode code, RefusalKind kind, string reason, string? capabilityId) =>
        Refusals.Exception(code, new Refusal { Kind = kind, Reason = reason, CapabilityId = capabilityId ?? string.Empty });
}

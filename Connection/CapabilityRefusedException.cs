using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Connection;

/// <summary>
/// The controller refused the capability, or what it asked: <see cref="Kind"/> says which part (certificate,
/// capability, method, budget), <see cref="Reason"/> says why in words.
/// </summary>
public sealed class CapabilityRefusedException(string message, StatusCode statusCode, string reason, Exception? inner = null, RefusalKind kind = RefusalKind.Unspecified)
    : CapClusterException(message, inner)
{
    /// <summary>UNAUTHENTICATED, PERMISSION_DENIED, or RESOURCE_EXHAUSTED for a budget.</summary>
    public StatusCode StatusCode { get; } = statusCode;

    /// <summary>What the controller said.</summary>
    public string Reason { get; } = reason;

    /// <summary>What was refused, as the controller sent it (<see cref="RefusalKind.Unspecified"/> from a controller that does not say).</summary>
    public RefusalKind Kind { get; } = kind;

    /// <summary>
    /// What the controller refused, as it said it: a call's <c>capcluster-refusal-bin</c> trailer, or a MultiEngine
    /// operation's result. The status code follows the kind (RESOURCE_EXHAUSTED for a budget).
    /// </summary>
    public static CapabilityRefusedException From(string message, Refusal refusal, Exception? inner = null)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        return new(message, refusal.Kind switch
        {
            RefusalKind.Certificate or RefusalKind.Capability => StatusCode.Unauthenticated,
            RefusalKind.Budget => StatusCode.ResourceExhausted,
            _ => StatusCode.PermissionDenied,
        }, refusal.Reason, inner, refusal.Kind);
    }
}

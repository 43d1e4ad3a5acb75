using CapCluster.Protocol;
using CapCluster.Security;

namespace CapCluster.Client;

/// <summary>The controller's gate refused the capability; <see cref="Reason"/> is the gate's reason.</summary>
public sealed class CapabilityRefusedException(string message, StatusCode statusCode, string reason, Exception? inner = null)
    : CapClusterException(message, inner)
{
    /// <summary>UNAUTHENTICATED or PERMISSION_DENIED.</summary>
    public StatusCode StatusCode { get; } = statusCode;

    /// <summary>What the gate said.</summary>
    public string Reason { get; } = reason;
}

using CapCluster.Security;

namespace CapCluster.Connection;

/// <summary>No controller answered at any location the capability names.</summary>
public sealed class ControllerUnreachableException(string message, Exception? inner = null) : CapClusterException(message, inner)
{
    /// <summary>The controller's addresses as the capability names them (<c>host:port</c>, several separated by ", "), when known.</summary>
    public string? Controller { get; init; }

    /// <summary>The capability file that names the controller, when known.</summary>
    public string? CapabilityPath { get; init; }

    /// <summary>
    /// True when the call had reached the controller and the connection broke under it (the controller stopped, or closed
    /// the connection, as it does for a revoked capability); false when no controller answered at all.
    /// </summary>
    public bool ConnectionLost { get; init; }
}

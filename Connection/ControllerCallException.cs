using CapCluster.Protocol;
using CapCluster.Security;

namespace CapCluster.Connection;

/// <summary>The controller answered a call with an error status other than a refusal.</summary>
public sealed class ControllerCallException(string message, StatusCode statusCode, Exception? inner = null) : CapClusterException(message, inner)
{
    /// <summary>The gRPC status the controller returned.</summary>
    public StatusCode StatusCode { get; } = statusCode;
}

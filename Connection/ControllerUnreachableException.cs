using CapCluster.Security;

namespace CapCluster.Connection;

/// <summary>No controller answered at any location the capability names.</summary>
public sealed class ControllerUnreachableException(string message, Exception? inner = null) : CapClusterException(message, inner);

using CapCluster.Security;

namespace CapCluster.Client;

/// <summary>No controller answered at any location the capability names.</summary>
public sealed class ControllerUnreachableException(string message, Exception? inner = null) : CapClusterException(message, inner);

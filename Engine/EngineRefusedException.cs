using CapCluster.Security;

namespace CapCluster.Engine;

/// <summary>The controller refused the engine's capability; retrying cannot help.</summary>
public sealed class EngineRefusedException(string message, Exception? inner = null) : CapClusterException(message, inner);

using CapCluster.Security;

namespace CapCluster.Client;

/// <summary>A call could not be completed on an engine: it died, was killed, was unknown, or the call was cleared from its queue.</summary>
public sealed class EngineLostException(int engineId, string message) : CapClusterException(message)
{
    /// <summary>The engine concerned, or -1 when the call named no registered engine.</summary>
    public int EngineId { get; } = engineId;
}

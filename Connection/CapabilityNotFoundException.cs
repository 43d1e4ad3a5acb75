using CapCluster.Security;

namespace CapCluster.Connection;

/// <summary>No .cap file was given and none was found where it was looked for.</summary>
public sealed class CapabilityNotFoundException(string message, IReadOnlyList<string> searchedPaths) : CapClusterException(message)
{
    /// <summary>Every path that was looked at, in order.</summary>
    public IReadOnlyList<string> SearchedPaths { get; } = searchedPaths;
}

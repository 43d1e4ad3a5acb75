using CapCluster.Security;

namespace CapCluster.Client;

/// <summary>Several engines failed the same call; <see cref="Errors"/> has each engine's error.</summary>
public sealed class CompositeRemoteException(IReadOnlyList<CapClusterException> errors)
    : CapClusterException($"{errors.Count} engines failed:" + string.Concat(errors.Select(e => Environment.NewLine + "  " + e.Message)))
{
    /// <summary>Each engine's error (a <see cref="RemoteException"/> or <see cref="EngineLostException"/>), in engine order.</summary>
    public IReadOnlyList<CapClusterException> Errors { get; } = errors;
}

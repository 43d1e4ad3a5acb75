namespace CapCluster.Client;

/// <summary>
/// The task farm's counts of the caller's tasks: those submitted with its capability and with capabilities derived
/// from it. <see cref="Cluster"/> (and <see cref="RunningPerEngine"/>) are filled only for a capability that is not
/// derived from another, such as the controller's own <c>task.cap</c>. <see cref="Engines"/> counts the engines that may
/// run the caller's tasks: for a capability with engines of its own, those that serve it.
/// </summary>
public sealed record TaskQueueStatus(
    long Queued, long Running, long Succeeded, long Failed, int Engines, IReadOnlyDictionary<int, long> RunningPerEngine, long Aborted = 0, TaskQueueTotals? Cluster = null);

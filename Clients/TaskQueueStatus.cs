namespace CapCluster.Client;

/// <summary>The task farm's counts.</summary>
public sealed record TaskQueueStatus(long Queued, long Running, long Succeeded, long Failed, int Engines, IReadOnlyDictionary<int, long> RunningPerEngine, long Aborted = 0);

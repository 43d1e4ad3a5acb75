namespace CapCluster.Client;

/// <summary>One engine's queue: waiting, running, and done since it registered.</summary>
public sealed record EngineQueueStatus(int EngineId, int Queued, int Running, long Completed);

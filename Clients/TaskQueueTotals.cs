namespace CapCluster.Client;

/// <summary>Every task of the cluster by state, whoever submitted it.</summary>
public sealed record TaskQueueTotals(long Queued, long Running, long Succeeded, long Failed, long Aborted);

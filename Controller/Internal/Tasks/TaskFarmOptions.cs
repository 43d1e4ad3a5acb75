namespace CapCluster.Controller.Internal.Tasks;

/// <summary>How the task farm schedules and what it keeps.</summary>
internal sealed record TaskFarmOptions
{
    /// <summary>Most tasks in one batch sent to an engine. Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Batches an engine may have sent or queued at once (one running, the next waiting). Default 2.</summary>
    public int BatchesPerEngine { get; init; } = 2;

    /// <summary>
    /// Finished results kept for retrieval by id; beyond it the oldest finished results are evicted, and
    /// asking for one says so. Default 100,000.
    /// </summary>
    public int MaxFinishedResults { get; init; } = 100_000;

    /// <summary>
    /// Task ids reserved in the ledger at a time: one durable write per this many tasks, and a restarted controller
    /// continues after the last reserved block. Default 100,000.
    /// </summary>
    public long IdBlock { get; init; } = 100_000;

    /// <summary>
    /// Queued tasks whose specs stay in memory. With a journal, the specs of tasks queued beyond this (without
    /// requirements or a recovery task) are dropped from memory once durable and read back just before they run,
    /// so a million queued tasks cost the controller an entry each, not their specs. Default 50,000.
    /// </summary>
    public int MaxQueuedSpecsInMemory { get; init; } = 50_000;
}

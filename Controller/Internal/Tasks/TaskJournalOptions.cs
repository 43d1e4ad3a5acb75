namespace CapCluster.Controller.Internal.Tasks;

/// <summary>How the task journal writes.</summary>
internal sealed record TaskJournalOptions
{
    /// <summary>Results larger than this are files beside the database, not rows in it. Default 1 MiB.</summary>
    public int LargeResult { get; init; } = 1 << 20;

    /// <summary>fsync at every commit (survives a power loss) instead of at checkpoints (survives a killed process). Default false.</summary>
    public bool SyncEveryCommit { get; init; }
}

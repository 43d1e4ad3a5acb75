namespace CapCluster.Controller.Internal.Tasks;

/// <summary>How the task journal writes.</summary>
internal sealed record TaskJournalOptions
{
    /// <summary>Results larger than this are files beside the database, not rows in it. Default 1 MiB.</summary>
    public int LargeResult { get; init; } = 1 << 20;

    /// <summary>
    /// How long results and forgotten ids may wait to be written when no submission waits (a result not yet written
    /// when the controller dies means its task runs again). Default 5 ms.
    /// </summary>
    public TimeSpan FlushDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Pending ops that are written at once, whatever waits. Default 4096.</summary>
    public int FlushCount { get; init; } = 4096;

    /// <summary>
    /// The most a give-back copies (the tasks still in the journal after a large clear): the writer rewrites the database
    /// with them, submissions waiting meanwhile, so a journal that still holds more than this keeps its size. Default 64 MiB.
    /// </summary>
    public long MaxGiveBackCopy { get; init; } = 64 << 20;

    /// <summary>fsync at every commit (survives a power loss) instead of at checkpoints (survives a killed process). Default false.</summary>
    public bool SyncEveryCommit { get; init; }
}

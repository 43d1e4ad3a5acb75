namespace CapCluster.Security;

/// <summary>How an <see cref="AuditLog"/> is written. Defaults are the values below.</summary>
public sealed class AuditLogOptions
{
    /// <summary>
    /// What peers cause is aggregated over this interval: refusals from one peer address (any port) of one call for one
    /// reason, and accepted connections and privileged calls of one capability from one address. The first is written
    /// at once, the rest are counted and written as one record with their count when the interval ends, so a holder
    /// who reconnects in a loop, or a stranger refused in a loop, writes a few records, not one each.
    /// Default 10 s; <see cref="TimeSpan.Zero"/> writes every one as it comes.
    /// </summary>
    public TimeSpan AggregationInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Keys (peer, call, reason, and holder for accepted calls) tracked in one interval (default 256); events beyond
    /// them are counted together in one record per outcome, so many addresses cannot make the log or the controller's
    /// memory grow without bound.
    /// </summary>
    public int MaxAggregationKeys { get; set; } = 256;

    /// <summary>
    /// The size past which the live log is sealed: renamed to <c>audit.&lt;first seq&gt;-&lt;last seq&gt;.jsonl</c> (read-only)
    /// and continued in a new live file. A start verifies the live file only, so this bounds what a start reads
    /// (about 2,200 records a MiB); <c>furlgen audit --verify</c> verifies every segment. Default 1 MiB; 0 never seals.
    /// </summary>
    public long SegmentBytes { get; set; } = 1024 * 1024;

    /// <summary>How often admin records furlgen left pending are folded in; null (the default) only when the log is opened.</summary>
    public TimeSpan? PendingPoll { get; set; }

    /// <summary>
    /// How long <see cref="AuditLog.Open"/> waits for another process to release the log folder's writer lock before
    /// refusing (furlgen holds it for a moment when it appends an admin record). Default 3 s.
    /// </summary>
    public TimeSpan LockWait { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (AggregationInterval < TimeSpan.Zero || AggregationInterval > TimeSpan.FromHours(1))
            throw new ArgumentException($"the audit aggregation interval must be between 0 and 1 hour, not {AggregationInterval}");
        if (MaxAggregationKeys < 1)
            throw new ArgumentException($"the number of aggregated audit keys must be at least 1, not {MaxAggregationKeys}");
        if (SegmentBytes < 0)
            throw new ArgumentException($"the audit segment size must not be negative, not {SegmentBytes}");
        if (LockWait < TimeSpan.Zero)
            throw new ArgumentException($"the audit lock wait must not be negative, not {LockWait}");
        if (PendingPoll is { } poll && poll <= TimeSpan.Zero)
            throw new ArgumentException($"the pending admin record poll must be positive, not {poll}");
    }
}

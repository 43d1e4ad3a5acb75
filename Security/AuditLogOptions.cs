namespace CapCluster.Security;

/// <summary>How an <see cref="AuditLog"/> is written. Defaults are the values below.</summary>
public sealed class AuditLogOptions
{
    /// <summary>
    /// Refusals from one peer address (any port) for one reason are aggregated over this interval: the first is
    /// written at once, the rest are counted and written as one record with their count when the interval ends.
    /// Default 10 s; <see cref="TimeSpan.Zero"/> writes every refusal as it comes.
    /// </summary>
    public TimeSpan RefusalInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Peer, call and reason keys tracked in one interval (default 256); refusals beyond them are counted together in one
    /// record, so many addresses cannot make the log or the controller's memory grow without bound.
    /// </summary>
    public int MaxRefusalKeys { get; set; } = 256;

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
        if (RefusalInterval < TimeSpan.Zero || RefusalInterval > TimeSpan.FromHours(1))
            throw new ArgumentException($"the refusal aggregation interval must be between 0 and 1 hour, not {RefusalInterval}");
        if (MaxRefusalKeys < 1)
            throw new ArgumentException($"the number of aggregated refusal keys must be at least 1, not {MaxRefusalKeys}");
        if (LockWait < TimeSpan.Zero)
            throw new ArgumentException($"the audit lock wait must not be negative, not {LockWait}");
        if (PendingPoll is { } poll && poll <= TimeSpan.Zero)
            throw new ArgumentException($"the pending admin record poll must be positive, not {poll}");
    }
}

namespace CapCluster.Security;

/// <summary>What <see cref="AuditLog.Verify(string, string)"/> found; each but <see cref="Intact"/> means the log cannot be trusted as it is.</summary>
public enum AuditFinding
{
    /// <summary>Every line is well-formed, in order, carries the MAC of the audit key, and the log ends where the anchor says.</summary>
    Intact,

    /// <summary>There is no log file.</summary>
    Missing,

    /// <summary>The security folder has no audit key, so no MAC can be checked.</summary>
    NoKey,

    /// <summary>A line is not an audit record, or its MAC does not match its content (it was edited).</summary>
    Damaged,

    /// <summary>A line carries a plain SHA-256 where the keyed MAC belongs: the chain was recomputed without the key.</summary>
    Rewritten,

    /// <summary>A line's seq or link is out of place: records were deleted, repeated or moved.</summary>
    Reordered,

    /// <summary>The log ends before the last record the controller wrote: its tail was removed.</summary>
    Cut,

    /// <summary>The file is not the one the controller wrote (another file, or an older copy moved in).</summary>
    Replaced,
}

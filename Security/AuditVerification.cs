namespace CapCluster.Security;

/// <summary>The result of <see cref="AuditLog.Verify(string, string)"/>.</summary>
/// <param name="IsIntact">Whether every line is well-formed, the keyed chain is unbroken and the log ends where its anchor says.</param>
/// <param name="RecordCount">Number of records read (up to the first bad line when not intact).</param>
/// <param name="FirstBadLine">The 1-based line where the chain first breaks, or <c>null</c>.</param>
/// <param name="Message">A sentence for people: what was found and where.</param>
/// <param name="Finding">What was found.</param>
/// <param name="LastSeq">The seq of the last good record read (0 when none).</param>
/// <param name="LastMac">The MAC of the last good record read (64 zeros when none).</param>
/// <param name="GoodLength">The length in bytes of the good records read, newline included.</param>
public sealed record AuditVerification(bool IsIntact, int RecordCount, int? FirstBadLine, string Message,
    AuditFinding Finding = AuditFinding.Intact, long LastSeq = 0, string LastMac = Internal.AuditLine.Genesis, long GoodLength = 0);

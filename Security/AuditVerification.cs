namespace CapCluster.Security;

/// <summary>The result of <see cref="AuditLog.Verify"/>.</summary>
/// <param name="IsIntact">Whether every line is well-formed and the hash chain is unbroken.</param>
/// <param name="RecordCount">Number of records read (up to the first bad line when not intact).</param>
/// <param name="FirstBadLine">The 1-based line where the chain first breaks, or <c>null</c> when intact.</param>
/// <param name="Message">A sentence for people: what was found and where.</param>
public sealed record AuditVerification(bool IsIntact, int RecordCount, int? FirstBadLine, string Message);

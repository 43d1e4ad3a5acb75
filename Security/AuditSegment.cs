namespace CapCluster.Security;

/// <summary>
/// A sealed part of the audit log (<c>audit.&lt;first&gt;-&lt;last&gt;.jsonl</c>): the records from seq
/// <paramref name="First"/> to <paramref name="Last"/>, read-only and never written again.
/// </summary>
public sealed record AuditSegment(string Path, long First, long Last);

using CapCluster.Security.Internal;

namespace CapCluster.Security;

public sealed partial class AuditLog
{
    /// <summary>Every record in the log, in file order (the chain is not checked: use <see cref="Verify(string, string)"/>).</summary>
    /// <exception cref="CapClusterException">A line is not a well-formed audit record.</exception>
    public static IReadOnlyList<AuditRecord> ReadAll(string path)
    {
        var records = new List<AuditRecord>();
        var number = 0;
        foreach (var text in File.ReadLines(path))
        {
            number++;
            if (text.Length == 0)
                continue;
            try
            {
                records.Add(AuditLine.Parse(text).ToRecord());
            }
            catch (FormatException e)
            {
                throw SecurityErrors.AuditDamaged(path, number, e.Message);
            }
        }
        return records;
    }

    /// <summary>One line of the log as a record (the chain is not checked).</summary>
    /// <exception cref="FormatException">The line is not a well-formed audit record.</exception>
    public static AuditRecord ParseLine(string line) => AuditLine.Parse(line).ToRecord();

    /// <summary>
    /// Checks the log at <paramref name="path"/> with the audit key and anchor of <paramref name="securityFolder"/>:
    /// every line well-formed, seq one more than the previous, prev equal to the previous line's MAC, MAC matching
    /// the content under the key; then, when the anchor names this file, that it is the same file (device and inode)
    /// and reaches the anchored seq with the anchored MAC. Reports the first problem, what it is and where.
    /// </summary>
    /// <exception cref="CapClusterException">The key or anchor file exists but is unreadable.</exception>
    public static AuditVerification Verify(string path, string securityFolder)
    {
        // The anchor first: the controller may append between the two reads, which leaves the log ahead of the
        // anchor (accepted), never behind it.
        var anchor = AuditAnchor.TryRead(securityFolder);
        var key = AuditKey.TryLoad(securityFolder);
        if (key is null)
            return new AuditVerification(false, 0, null,
                $"NO KEY: {AuditKey.PathIn(securityFolder)} does not exist, so no MAC can be checked (verify with the controller's security folder)",
                AuditFinding.NoKey);
        return Verify(Path.GetFullPath(path), key, anchor);
    }

    internal static AuditVerification Verify(string path, AuditKey key, AuditAnchor? anchor)
    {
        var anchored = anchor is not null && string.Equals(anchor.LogPath, path, StringComparison.Ordinal) ? anchor : null;
        if (!File.Exists(path))
            return anchored is { Seq: > 0 }
                ? new AuditVerification(false, 0, null, $"CUT: {path} does not exist, but the controller wrote {anchored.Seq} record(s) to it", AuditFinding.Cut)
                : new AuditVerification(false, 0, null, $"{path} does not exist", AuditFinding.Missing);

        var fileId = NativeFiles.FileId(path);
        if (anchored?.FileId is { } expectedId && fileId is not null && fileId != expectedId)
            return new AuditVerification(false, 0, null,
                $"REPLACED: {path} is not the file the controller wrote (file id {fileId}, the anchor says {expectedId}): another file or an older copy was put in its place",
                AuditFinding.Replaced);

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        var reader = new AuditLineReader(stream);
        var count = 0;
        var number = 0;
        var prev = AuditLine.Genesis;
        long good = 0;
        long lastSeq = 0;
        while (reader.TryRead(out var raw))
        {
            number++;
            AuditVerification Bad(AuditFinding finding, string problem) =>
                new(false, count, number, $"{finding.ToString().ToUpperInvariant()}: line {number} {problem}", finding, lastSeq, prev, good);
            if (!raw.Complete)
                return Bad(AuditFinding.Damaged, "is incomplete (no newline at the end of the file): a write was cut short");
            if (raw.Text is not { } text)
                return Bad(AuditFinding.Damaged, $"is longer than any record ({AuditLineReader.MaxLineBytes} bytes and more)");
            if (text.Length == 0)
                return Bad(AuditFinding.Damaged, "is empty (lines are never blank)");
            AuditLine line;
            try
            {
                line = AuditLine.Parse(text);
            }
            catch (FormatException e)
            {
                return Bad(AuditFinding.Damaged, "is not an audit record: " + e.Message);
            }

            var expectedSeq = lastSeq + 1;
            if (line.Seq != expectedSeq)
                return Bad(AuditFinding.Reordered, $"has seq {line.Seq} where seq {expectedSeq} belongs (records were deleted, repeated or moved)");
            if (line.Prev != prev)
                return Bad(AuditFinding.Reordered, $"(seq {line.Seq}) does not continue the chain from the line before (a record was deleted, inserted or moved)");
            if (line.ComputeMac(key) != line.Mac)
                return line.ComputeUnkeyedHash() == line.Mac
                    ? Bad(AuditFinding.Rewritten, $"(seq {line.Seq}) carries a plain SHA-256 where the keyed MAC belongs: the chain was recomputed without the audit key")
                    : Bad(AuditFinding.Damaged, $"(seq {line.Seq}) does not match its MAC (the record was edited, or written with another key)");
            if (anchored is not null && line.Seq == anchored.Seq && line.Mac != anchored.Mac)
                return Bad(AuditFinding.Replaced, $"(seq {line.Seq}) is not the record the controller wrote with that seq: the file was replaced by another chain");
            prev = line.Mac;
            lastSeq = line.Seq;
            good = raw.Next;
            count++;
        }

        if (anchored is not null && lastSeq < anchored.Seq)
            return new AuditVerification(false, count, number + 1,
                $"CUT: the log ends at seq {lastSeq} (line {number}) but the controller wrote up to seq {anchored.Seq}: its last {anchored.Seq - lastSeq} record(s) were removed",
                AuditFinding.Cut, lastSeq, prev, good);
        var checkedAgainst = anchored is null
            ? " (no anchor names this file, so a cut tail or a swapped file cannot be detected)"
            : $", ends at or after the anchored seq {anchored.Seq}";
        return new AuditVerification(true, count, null, $"intact: {count} record(s), keyed chain unbroken{checkedAgainst}",
            AuditFinding.Intact, lastSeq, prev, good);
    }
}

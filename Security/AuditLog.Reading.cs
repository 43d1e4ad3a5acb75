using CapCluster.Security.Internal;

namespace CapCluster.Security;

public sealed partial class AuditLog
{
    /// <summary>
    /// Every record in the log, in chain order: its sealed segments, then the live file (the chain is not checked: use
    /// <see cref="Verify(string, string)"/>). A last line the controller is still writing is not a record yet.
    /// </summary>
    /// <exception cref="CapClusterException">A line is not a well-formed audit record.</exception>
    public static IReadOnlyList<AuditRecord> ReadAll(string path)
    {
        var records = new List<AuditRecord>();
        foreach (var (file, number, text) in WholeLines(path))
        {
            try
            {
                records.Add(AuditLine.Parse(text).ToRecord());
            }
            catch (FormatException e)
            {
                throw SecurityErrors.AuditDamaged(file, number, e.Message);
            }
        }

        return records;
    }

    /// <summary>The log's sealed segments, oldest first (named for the seqs they hold; their content is not checked).</summary>
    public static IReadOnlyList<AuditSegment> Segments(string path) => AuditSegments.Sealed(Path.GetFullPath(path));

    /// <summary>The log's files in chain order: its sealed segments, oldest first, then the live file when it exists.</summary>
    public static IReadOnlyList<string> Files(string path) => [.. AuditSegments.Files(Path.GetFullPath(path))];

    /// <summary>
    /// Every line of the log in chain order, sealed segments first, as it is in the files (blank lines left out, and a
    /// last line the controller is still writing, which has no newline yet).
    /// </summary>
    public static IEnumerable<string> ReadLines(string path) => WholeLines(path).Select(l => l.Text);

    // Only whole lines: the controller writes a record and its newline in one write, so a line without its newline
    // is one being written (or, after a crash, one a start removes). A line longer than any record is read as one.
    private static IEnumerable<(string File, int Number, string Text)> WholeLines(string path)
    {
        foreach (var file in AuditSegments.Files(Path.GetFullPath(path)))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            var reader = new AuditLineReader(stream);
            var number = 0;
            while (reader.TryRead(out var raw))
            {
                number++;
                if (!raw.Complete)
                    break;
                var text = raw.Text ?? throw SecurityErrors.AuditDamaged(file, number, $"longer than any record ({AuditLineReader.MaxLineBytes} bytes and more)");
                if (text.Length > 0)
                    yield return (file, number, text);
            }
        }
    }

    /// <summary>One line of the log as a record (the chain is not checked).</summary>
    /// <exception cref="FormatException">The line is not a well-formed audit record.</exception>
    public static AuditRecord ParseLine(string line) => AuditLine.Parse(line).ToRecord();

    /// <summary>One line of the log as its seq and record (the chain is not checked).</summary>
    /// <exception cref="FormatException">The line is not a well-formed audit record.</exception>
    public static (long Seq, AuditRecord Record) ParseNumberedLine(string line)
    {
        var parsed = AuditLine.Parse(line);
        return (parsed.Seq, parsed.ToRecord());
    }

    /// <summary>
    /// Checks the log at <paramref name="path"/> with the audit key and anchor of <paramref name="securityFolder"/>:
    /// its sealed segments oldest first, then the live file, as one chain: every line well-formed, seq one more than
    /// the previous, prev equal to the previous line's MAC, MAC matching the content under the key, each segment
    /// ending at the seq its name says and the next beginning after it; then, when the anchor names this log, that the
    /// live file is the same file (device and inode) and reaches the anchored seq with the anchored MAC. The oldest
    /// segments may have been removed (the chain is then checked from the first kept); a removed segment between
    /// others is a cut. Reports the first problem, what it is and where.
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
        var full = Path.GetFullPath(path);
        var anchored = anchor is not null && string.Equals(anchor.LogPath, full, StringComparison.Ordinal) ? anchor : null;
        var segments = AuditSegments.Sealed(full);
        (long Seq, string Mac)? from = (0, AuditLine.Genesis);
        var count = 0;
        var kept = "";
        foreach (var segment in segments)
        {
            if (count == 0 && segment.First > 1)
            {
                from = null; // the oldest segments were removed: the chain is checked from the first record kept
                kept = $" from seq {segment.First} (the segments before it are no longer kept)";
            }
            else if (from is { } before && segment.First != before.Seq + 1)
            {
                return new AuditVerification(false, count, null,
                    $"CUT: {Path.GetFileName(segment.Path)} begins at seq {segment.First} but the segment before it ends at seq {before.Seq}: a sealed segment was removed",
                    AuditFinding.Cut, before.Seq, before.Mac);
            }

            var result = VerifyFile(segment.Path, key, null, from, count, sealedSegment: true);
            if (!result.IsIntact)
                return result;
            if (result.LastSeq != segment.Last)
                return result with
                {
                    IsIntact = false,
                    Message = $"CUT: {Path.GetFileName(segment.Path)} is named for seqs up to {segment.Last} but ends at seq {result.LastSeq}",
                    Finding = AuditFinding.Cut,
                };
            from = (result.LastSeq, result.LastMac);
            count = result.RecordCount;
        }

        if (segments.Count > 0 && !File.Exists(full) && anchored is not null && anchored.Seq == from!.Value.Seq)
            return new AuditVerification(true, count, null, $"intact: {count} record(s){kept}, keyed chain unbroken, ends at the anchored seq {anchored.Seq}",
                AuditFinding.Intact, from.Value.Seq, from.Value.Mac);
        return VerifyFile(full, key, anchored, from, count, kept: kept);
    }

    /// <summary>
    /// Checks the live file at start, from the record the anchor says it continues from (the chain before it, in the
    /// sealed segments, is <c>furlgen audit --verify</c>'s to check).
    /// </summary>
    internal static AuditVerification VerifyLive(string path, AuditKey key, AuditAnchor? anchored, (long Seq, string Mac) from) =>
        VerifyFile(path, key, anchored, from, 0);

    /// <summary>
    /// Checks one file of the chain: from <paramref name="from"/> (the seq and MAC before its first line; null takes
    /// them from its first line), and against <paramref name="anchored"/> when the anchor names it. Record counts and
    /// the intact message include <paramref name="earlier"/> records of files before it (and <paramref name="kept"/>, from
    /// which seq they are kept); a sealed segment is named in what is found.
    /// </summary>
    private static AuditVerification VerifyFile(string path, AuditKey key, AuditAnchor? anchored, (long Seq, string Mac)? from, int earlier,
        bool sealedSegment = false, string kept = "")
    {
        var where = sealedSegment ? $" of {Path.GetFileName(path)}" : "";
        if (!File.Exists(path))
            return anchored is { } a && a.Seq > a.BaseSeq
                ? new AuditVerification(false, earlier, null, $"CUT: {path} does not exist, but the controller wrote {a.Seq - a.BaseSeq} record(s) to it", AuditFinding.Cut)
                : new AuditVerification(false, earlier, null, $"{path} does not exist", AuditFinding.Missing);

        var fileId = NativeFiles.FileId(path);
        if (anchored?.FileId is { } expectedId && fileId is not null && fileId != expectedId)
            return new AuditVerification(false, earlier, null,
                $"REPLACED: {path} is not the file the controller wrote (file id {fileId}, the anchor says {expectedId}): another file or an older copy was put in its place",
                AuditFinding.Replaced);

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        var reader = new AuditLineReader(stream);
        var count = earlier;
        var number = 0;
        var (lastSeq, prev) = from ?? (-1, AuditLine.Genesis);
        long good = 0;
        while (reader.TryRead(out var raw))
        {
            number++;
            AuditVerification Bad(AuditFinding finding, string problem) =>
                new(false, count, number, $"{finding.ToString().ToUpperInvariant()}: line {number}{where} {problem}", finding, lastSeq, prev, good);
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

            if (lastSeq < 0)
                (lastSeq, prev) = (line.Seq - 1, line.Prev);
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

        lastSeq = Math.Max(lastSeq, 0);
        if (anchored is not null && lastSeq < anchored.Seq)
            return new AuditVerification(false, count, number + 1,
                $"CUT: the log ends at seq {lastSeq} (line {number}) but the controller wrote up to seq {anchored.Seq}: its last {anchored.Seq - lastSeq} record(s) were removed",
                AuditFinding.Cut, lastSeq, prev, good);
        var checkedAgainst = anchored is null
            ? " (no anchor names this file, so a cut tail or a swapped file cannot be detected)"
            : $", ends at or after the anchored seq {anchored.Seq}";
        return new AuditVerification(true, count, null, $"intact: {count} record(s){kept}, keyed chain unbroken{checkedAgainst}",
            AuditFinding.Intact, lastSeq, prev, good);
    }
}

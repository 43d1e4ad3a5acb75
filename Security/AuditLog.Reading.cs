using CapCluster.Security.Internal;

namespace CapCluster.Security;

public sealed partial class AuditLog
{
    /// <summary>Every record in the log, in file order (the chain is not checked: use <see cref="Verify"/>).</summary>
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
    /// Checks every line: well-formed, seq one more than the previous, prev equal to the previous line's hash,
    /// hash matching the content. Reports the first line where any of these fails.
    /// </summary>
    public static AuditVerification Verify(string path)
    {
        if (!File.Exists(path))
            return new AuditVerification(false, 0, null, $"{path} does not exist");
        var count = 0;
        var number = 0;
        var prev = AuditLine.Genesis;
        foreach (var text in File.ReadLines(path))
        {
            number++;
            if (text.Length == 0)
                return Broken(count, number, "is empty (lines are never blank)");
            AuditLine line;
            try
            {
                line = AuditLine.Parse(text);
            }
            catch (FormatException e)
            {
                return Broken(count, number, "is not an audit record: " + e.Message);
            }
            var expectedSeq = count + 1;
            if (line.Seq != expectedSeq)
                return Broken(count, number, $"has seq {line.Seq} where seq {expectedSeq} belongs (a record was deleted, inserted or moved)");
            if (line.Prev != prev)
                return Broken(count, number, $"(seq {line.Seq}) does not continue the chain from the line before (a record was deleted, inserted or moved)");
            if (line.ComputeHash() != line.Hash)
                return Broken(count, number, $"(seq {line.Seq}) does not match its hash (the record was edited)");
            prev = line.Hash;
            count++;
        }
        return new AuditVerification(true, count, null, $"intact: {count} record(s), chain unbroken");
    }

    private static AuditVerification Broken(int count, int line, string problem) =>
        new(false, count, line, $"line {line} {problem}");
}

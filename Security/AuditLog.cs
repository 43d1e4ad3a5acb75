using System.Text;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// The append-only, hash-chained audit log: one JSON object per line with the record's fields (camelCase),
/// <c>seq</c> (1-based), <c>prev</c> (the previous line's hash, 64 zeros for the first) and <c>hash</c>
/// (hex SHA-256 of <c>prev</c> followed by the canonical JSON of seq and the record fields).
/// Editing, deleting or reordering lines breaks the chain at that line. Removing lines from the end is
/// not detectable from the file alone: compare the last seq with one kept elsewhere.
/// </summary>
public sealed partial class AuditLog : IDisposable
{
    private readonly object _gate = new();
    private readonly FileStream _stream;
    private long _seq;
    private string _prev;

    private AuditLog(string path, FileStream stream, long seq, string prev)
    {
        FilePath = path;
        _stream = stream;
        _seq = seq;
        _prev = prev;
    }

    /// <summary>The log file.</summary>
    public string FilePath { get; }

    /// <summary>The seq of the last record written (0 for an empty log).</summary>
    public long LastSeq
    {
        get
        {
            lock (_gate)
                return _seq;
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> for appending, creating it with mode 0600 if missing (its folder too), and
    /// continues the chain from the last line. The time provider is accepted for symmetry; records carry their own time.
    /// </summary>
    /// <exception cref="CapClusterException">The last line is damaged, so the chain cannot be continued.</exception>
    public static AuditLog Open(string path, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        _ = time;
        var full = Path.GetFullPath(path);
        SecureFile.CreateFolder(Path.GetDirectoryName(full)!);
        var stream = new FileStream(full, SecureFile.CreateOptions(FileMode.Append, FileShare.Read));
        try
        {
            var (seq, prev) = ReadTail(full);
            return new AuditLog(full, stream, seq, prev);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Appends <paramref name="record"/> and flushes it to disk before returning. Thread-safe.</summary>
    public void Append(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            var line = AuditLine.Create(_seq + 1, record, _prev);
            _stream.Write(Encoding.UTF8.GetBytes(line.ToJson() + "\n"));
            _stream.Flush(flushToDisk: true);
            _seq = line.Seq;
            _prev = line.Hash;
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        lock (_gate)
            _stream.Dispose();
    }

    private static (long Seq, string Prev) ReadTail(string path)
    {
        string? last = null;
        var lineNumber = 0;
        using (var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)))
        {
            while (reader.ReadLine() is { } line)
            {
                lineNumber++;
                if (line.Length > 0)
                    last = line;
            }
        }
        if (last is null)
            return (0, AuditLine.Genesis);
        try
        {
            var parsed = AuditLine.Parse(last);
            if (parsed.ComputeHash() != parsed.Hash)
                throw new FormatException("its hash does not match its content");
            return (parsed.Seq, parsed.Hash);
        }
        catch (FormatException e)
        {
            throw SecurityErrors.AuditDamaged(path, lineNumber, e.Message);
        }
    }
}

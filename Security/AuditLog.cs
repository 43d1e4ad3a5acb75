using System.Text;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// The append-only, keyed, hash-chained audit log: one JSON object per line with the record's fields (camelCase),
/// <c>seq</c> (1-based), <c>prev</c> (the previous line's MAC, 64 zeros for the first) and <c>mac</c> (HMAC-SHA256
/// under <see cref="AuditKey"/> of <c>prev</c> followed by the canonical JSON of seq and the record fields).
/// One process writes a log folder at a time (<c>audit.lock</c>); after every record the <see cref="AuditAnchor"/> in
/// the security folder is updated, so a removed tail or a swapped file is detected as well as an edited line.
/// A record that cannot be written leaves nothing behind and throws <see cref="AuditWriteException"/>.
/// </summary>
public sealed partial class AuditLog : IDisposable
{
    private readonly object _gate = new();
    private readonly FileStream _stream;
    private readonly AuditLock _lock;
    private readonly AuditKey _key;
    private readonly string _securityFolder;
    private readonly string? _fileId;
    private readonly TimeProvider _time;
    private readonly AuditLogOptions _options;
    private readonly RefusalAggregator? _refusals;
    private readonly List<AuditRecord> _unwrittenRefusals = [];
    private long _droppedRefusals;
    private ITimer? _pendingTimer;
    private ITimer? _refusalTimer;
    private int _folding;
    private long _length;
    private long _seq;
    private string _mac;
    private bool _truncatePending;
    private bool _disposed;

    private AuditLog(string path, FileStream stream, AuditLock writerLock, AuditKey key, string securityFolder, TimeProvider time, AuditLogOptions options, AuditVerification tail)
    {
        _options = options;
        _refusals = options.RefusalInterval > TimeSpan.Zero ? new RefusalAggregator(options.MaxRefusalKeys) : null;
        FilePath = path;
        _stream = stream;
        _lock = writerLock;
        _key = key;
        _securityFolder = securityFolder;
        _time = time;
        _fileId = NativeFiles.FileId(path);
        _length = tail.GoodLength;
        _seq = tail.LastSeq;
        _mac = tail.LastMac;
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
    /// Appends <paramref name="record"/> (fields capped and escaped, see <see cref="AuditText"/>), flushes it to disk
    /// and moves the anchor, before returning. Thread-safe. A refusal is aggregated (see
    /// <see cref="AuditLogOptions.RefusalInterval"/>) and never throws: the call it records fails anyway, and one
    /// that cannot be written now is kept counted and written with the next flush.
    /// </summary>
    /// <exception cref="AuditWriteException">It could not be written; the log is as it was before the call.</exception>
    public void Append(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_refusals is null && record.Outcome == AuditRecord.Refused)
        {
            try
            {
                Write(record);
            }
            catch (AuditWriteException)
            {
                lock (_gate)
                    _droppedRefusals += record.Count;
            }

            return;
        }

        if (_refusals is not null && record.Outcome == AuditRecord.Refused && record.Count == 1)
        {
            if (_refusals.Count(record))
            {
                try
                {
                    Write(record);
                }
                catch (AuditWriteException)
                {
                    _refusals.Unwritten(record);
                }
            }

            return;
        }

        Write(record);
    }

    private void Write(AuditRecord record)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_refusals is null && _droppedRefusals > 0)
            {
                // Without aggregation there is no flush to report them: the first record that can be written does.
                WriteLocked(new AuditRecord(_time.GetUtcNow(), null, null, null, null, "audit", "refusals", AuditRecord.Notice,
                    $"{_droppedRefusals} refusal record(s) were lost while the audit log was not writable", _droppedRefusals));
                _droppedRefusals = 0;
            }

            WriteLocked(record);
        }
    }

    private void WriteLocked(AuditRecord record)
    {
        var line = AuditLine.Create(_seq + 1, record, _mac, _key);
        var bytes = Encoding.UTF8.GetBytes(line.ToJson() + "\n");
        try
        {
            if (_truncatePending)
            {
                _stream.SetLength(_length);
                _truncatePending = false;
            }

            _stream.Position = _length;
            _stream.Write(bytes);
            _stream.Flush(flushToDisk: true);
            WriteAnchor(line.Seq, line.Mac);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TruncateToLastRecord();
            throw new AuditWriteException(FilePath, e.Message, e);
        }

        _length += bytes.Length;
        _seq = line.Seq;
        _mac = line.Mac;
    }

    /// <summary>Closes the file and releases the folder's writer lock.</summary>
    public void Dispose()
    {
        _pendingTimer?.Dispose();
        _refusalTimer?.Dispose();
        if (!_disposed)
            FlushRefusalsQuietly();
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _stream.Dispose();
            _lock.Dispose();
        }
    }

    private void WriteAnchor(long seq, string mac) => new AuditAnchor(seq, mac, FilePath, _fileId).Write(_securityFolder);

    // Whatever part of the failed record reached the file goes, so the next record follows the last whole one.
    private void TruncateToLastRecord()
    {
        try
        {
            _stream.SetLength(_length);
            _stream.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            _truncatePending = true;
        }
    }
}

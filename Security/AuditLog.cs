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
    private readonly AuditLock _lock;
    private readonly AuditKey _key;
    private readonly string _securityFolder;
    private FileStream? _stream;
    private string? _fileId;
    private long _baseSeq;
    private string _baseMac;
    private readonly TimeProvider _time;
    private readonly AuditLogOptions _options;
    private readonly AuditAggregator? _aggregator;
    private readonly List<AuditRecord> _unwritten = [];
    private long _dropped;
    private ITimer? _pendingTimer;
    private ITimer? _aggregationTimer;
    private volatile bool _failing;
    private int _folding;
    private long _length;
    private long _seq;
    private string _mac;
    private bool _truncatePending;
    private bool _disposed;

    private AuditLog(string path, FileStream stream, AuditLock writerLock, AuditKey key, string securityFolder, TimeProvider time, AuditLogOptions options,
        (long Seq, string Mac) start, AuditVerification tail)
    {
        _options = options;
        _aggregator = options.AggregationInterval > TimeSpan.Zero ? new AuditAggregator(options.MaxAggregationKeys) : null;
        FilePath = path;
        _stream = stream;
        _lock = writerLock;
        _key = key;
        _securityFolder = securityFolder;
        _time = time;
        _fileId = NativeFiles.FileId(path);
        (_baseSeq, _baseMac) = start;
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
    /// and moves the anchor, before returning. Thread-safe. What a peer causes (a refusal, an accepted call from an
    /// address) is aggregated (see <see cref="AuditLogOptions.AggregationInterval"/>): the first of its kind in an
    /// interval is written at once, the others counted. A refusal never throws: the call it records fails anyway, and
    /// one that cannot be written now is kept counted and written with the next flush. An accepted call is counted only
    /// while the log takes records: once a write failed, each is written itself (and fails) until one is written.
    /// </summary>
    /// <exception cref="AuditWriteException">It could not be written; the log is as it was before the call.</exception>
    public void Append(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var accepted = record.Outcome == AuditRecord.Accepted;
        if (_aggregator is not null && AuditAggregator.Aggregates(record))
        {
            if (accepted && _failing)
            {
                Write(record);
                _aggregator.Written(record);
                return;
            }

            if (!_aggregator.Count(record))
                return;
            try
            {
                Write(record);
            }
            catch (AuditWriteException) when (!accepted)
            {
                _aggregator.Unwritten(record);
            }
            catch (AuditWriteException)
            {
                _aggregator.Forget(record);
                throw;
            }

            return;
        }

        if (_aggregator is null && record.Outcome == AuditRecord.Refused)
        {
            try
            {
                Write(record);
            }
            catch (AuditWriteException)
            {
                lock (_gate)
                    _dropped += record.Count;
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
            if (_aggregator is null && _dropped > 0)
            {
                // Without aggregation there is no flush to report them: the first record that can be written does.
                WriteLocked(new AuditRecord(_time.GetUtcNow(), null, null, null, null, "audit", "refusals", AuditRecord.Notice,
                    $"{_dropped} refusal record(s) were lost while the audit log was not writable", _dropped));
                _dropped = 0;
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
            _stream ??= OpenLive();
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
            _failing = true;
            throw new AuditWriteException(FilePath, e.Message, e);
        }

        _failing = false;
        _length += bytes.Length;
        _seq = line.Seq;
        _mac = line.Mac;
        if (_options.SegmentBytes > 0 && _length >= _options.SegmentBytes)
            SealLocked();
    }

    /// <summary>
    /// Renames the live file to the sealed segment of its seqs (it keeps its inode, so the anchor still names it) and
    /// starts a new live file that continues the chain, anchored with the new base. The record that filled the file is
    /// written and anchored already: a seal that fails leaves the live file growing, and the next record tries again.
    /// A controller stopped between the rename and the new anchor finds, at start, the newest segment ending at the
    /// anchored seq, and continues from it.
    /// </summary>
    private void SealLocked()
    {
        var sealedPath = AuditSegments.SealedPath(FilePath, _baseSeq + 1, _seq);
        try
        {
            _stream?.Dispose();
            _stream = null;
            File.Move(FilePath, sealedPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // the next record reopens the live file and seals it then
        }

        (_baseSeq, _baseMac, _length, _fileId) = (_seq, _mac, 0, null);
        try
        {
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(sealedPath, UnixFileMode.UserRead);
            _stream = OpenLive();
            WriteAnchor(_seq, _mac);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The next record opens the live file and anchors it.
        }
    }

    private FileStream OpenLive()
    {
        var fileOptions = SecureFile.CreateOptions(FileMode.OpenOrCreate, FileShare.Read);
        fileOptions.BufferSize = 0;
        var stream = new FileStream(FilePath, fileOptions);
        _fileId = NativeFiles.FileId(FilePath);
        return stream;
    }

    /// <summary>Closes the file and releases the folder's writer lock.</summary>
    public void Dispose()
    {
        _pendingTimer?.Dispose();
        _aggregationTimer?.Dispose();
        if (!_disposed)
            FlushAggregatedQuietly();
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _stream?.Dispose();
            _lock.Dispose();
        }
    }

    private void WriteAnchor(long seq, string mac) =>
        new AuditAnchor(seq, mac, FilePath, _fileId, _baseSeq, _baseSeq == 0 ? null : _baseMac).Write(_securityFolder);

    // Whatever part of the failed record reached the file goes, so the next record follows the last whole one.
    private void TruncateToLastRecord()
    {
        try
        {
            _stream?.SetLength(_length);
            _stream?.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            _truncatePending = true;
        }
    }
}

using System.Diagnostics;
using System.Globalization;
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
    /// Opens <paramref name="path"/> for appending as the only writer of its folder, with the key and anchor of
    /// <paramref name="securityFolder"/> (the key is created there, 0600, when missing). A log that does not verify
    /// against the key and anchor is never continued: it is moved aside (<c>audit.&lt;time&gt;.rejected.jsonl</c>) and
    /// the new chain starts with a notice record saying what was found. Admin records furlgen left pending are folded
    /// in, at once and then every <see cref="AuditLogOptions.PendingPoll"/> when one is given. Refusals are aggregated
    /// as <see cref="AuditLogOptions.RefusalInterval"/> says (default options when <paramref name="options"/> is null).
    /// </summary>
    /// <exception cref="CapClusterException">Another process writes this log folder (its pid is named), or the files cannot be used.</exception>
    public static AuditLog Open(string path, string securityFolder, TimeProvider? time = null, AuditLogOptions? options = null)
    {
        var full = Path.GetFullPath(path);
        // furlgen holds the lock for a moment when it appends an admin record with no controller running.
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (TryOpen(full, securityFolder, time, options, out var holder) is { } log)
                return log;
            if (waited.Elapsed >= (options ?? new AuditLogOptions()).LockWait)
                throw SecurityErrors.AuditLogInUse(Path.GetDirectoryName(full)!, holder);
            Thread.Sleep(50);
        }
    }

    /// <summary>As <see cref="Open"/>, but null (with the holder's pid, when known) when another process writes the folder.</summary>
    /// <exception cref="CapClusterException">The files cannot be used.</exception>
    public static AuditLog? TryOpen(string path, string securityFolder, TimeProvider? time, AuditLogOptions? options, out int? holderPid)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(securityFolder);
        time ??= TimeProvider.System;
        options ??= new AuditLogOptions();
        options.Validate();
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        AuditLock? writerLock;
        try
        {
            SecureFile.CreateFolder(folder);
            writerLock = AuditLock.TryTake(folder, out holderPid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AuditWriteException(full, e.Message, e);
        }

        if (writerLock is null)
            return null;
        try
        {
            var key = AuditKey.LoadOrCreate(securityFolder);
            var anchor = AuditAnchor.TryRead(securityFolder);
            var check = File.Exists(full) || anchor is { Seq: > 0 } && anchor.LogPath == full
                ? Verify(full, key, anchor)
                : new AuditVerification(true, 0, null, "new", AuditFinding.Intact);
            string? notice = null;
            if (!check.IsIntact && UnfinishedLastRecord(full, check, anchor) is { } unfinished)
            {
                // A crash in the middle of a write: that record was never anchored, so its call never went ahead.
                string removed;
                using (var truncate = new FileStream(full, FileMode.Open, FileAccess.ReadWrite, FileShare.Read))
                {
                    var tail = new byte[Math.Min(unfinished, 256)];
                    truncate.Position = check.GoodLength;
                    truncate.ReadExactly(tail);
                    removed = Encoding.UTF8.GetString(tail);
                    truncate.SetLength(check.GoodLength);
                    truncate.Flush(flushToDisk: true);
                }

                notice = $"line {check.FirstBadLine} was a record cut short ({unfinished} byte(s), never completed or anchored) and was removed; " +
                    $"the chain continues from seq {check.LastSeq}; it began: {removed}";
                check = check with { IsIntact = true, Finding = AuditFinding.Intact };
            }

            if (!check.IsIntact)
            {
                notice = SetAside(full, check, time);
                check = new AuditVerification(true, 0, null, "new", AuditFinding.Intact);
            }

            var fileOptions = SecureFile.CreateOptions(FileMode.OpenOrCreate, FileShare.Read);
            fileOptions.BufferSize = 0;
            var stream = new FileStream(full, fileOptions);
            var log = new AuditLog(full, stream, writerLock, key, Path.GetFullPath(securityFolder), time, options, check);
            try
            {
                if (notice is not null)
                    log.Append(new AuditRecord(time.GetUtcNow(), null, null, null, null, "audit", "open", AuditRecord.Notice, notice));
                else
                    log.WriteAnchor(log._seq, log._mac);
                log.FoldPending();
                if (options.PendingPoll is { } period)
                    log._pendingTimer = time.CreateTimer(_ => log.FoldPendingQuietly(), null, period, period);
                if (log._refusals is not null)
                    log._refusalTimer = time.CreateTimer(_ => log.FlushRefusalsQuietly(), null, options.RefusalInterval, options.RefusalInterval);
                return log;
            }
            catch
            {
                log.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            writerLock.Dispose();
            throw new AuditWriteException(full, e.Message, e);
        }
        catch
        {
            writerLock.Dispose();
            throw;
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

    /// <summary>
    /// Ends the current aggregation interval: writes one record per peer and reason that counted more refusals than
    /// the first (this happens every <see cref="AuditLogOptions.RefusalInterval"/> and on <see cref="Dispose"/>).
    /// </summary>
    /// <exception cref="AuditWriteException">Some could not be written; they are kept for the next flush.</exception>
    public void FlushRefusals()
    {
        if (_refusals is null)
            return;
        var drained = _refusals.Drain(_time.GetUtcNow(), _options.RefusalInterval);
        List<AuditRecord> pending;
        long dropped;
        lock (_gate)
        {
            pending = [.. _unwrittenRefusals, .. drained];
            _unwrittenRefusals.Clear();
            dropped = _droppedRefusals;
            _droppedRefusals = 0;
        }

        if (dropped > 0)
            pending.Add(new AuditRecord(_time.GetUtcNow(), null, null, null, null, "audit", "aggregate", AuditRecord.Notice,
                $"{dropped} aggregated refusal record(s) were lost while the audit log was not writable", dropped));
        for (var i = 0; i < pending.Count; i++)
        {
            try
            {
                Write(pending[i]);
            }
            catch (AuditWriteException)
            {
                lock (_gate)
                {
                    foreach (var record in pending.Skip(i))
                    {
                        if (record.Outcome == AuditRecord.Notice)
                            _droppedRefusals += record.Count;
                        else if (_unwrittenRefusals.Count < 4 * _options.MaxRefusalKeys)
                            _unwrittenRefusals.Add(record);
                        else
                            _droppedRefusals++;
                    }
                }

                throw;
            }
        }
    }

    private void FlushRefusalsQuietly()
    {
        try
        {
            FlushRefusals();
        }
        catch (Exception e) when (e is CapClusterException or ObjectDisposedException)
        {
            // Kept for the next interval.
        }
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

    private static long? UnfinishedLastRecord(string path, AuditVerification check, AuditAnchor? anchor)
    {
        if (check.Finding != AuditFinding.Damaged || anchor is not null && anchor.LogPath == path && anchor.Seq > check.LastSeq)
            return null;
        var bytes = File.ReadAllBytes(path);
        return bytes.Length > check.GoodLength && Array.IndexOf(bytes, (byte)'\n', (int)check.GoodLength) < 0
            ? bytes.Length - check.GoodLength
            : null;
    }

    private static string SetAside(string path, AuditVerification check, TimeProvider time)
    {
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        if (!File.Exists(path))
            return $"the audit log did not match its anchor at start ({check.Message}); a new chain starts here";
        var aside = Path.Combine(Path.GetDirectoryName(path)!, $"{Path.GetFileNameWithoutExtension(path)}.{stamp}.rejected{Path.GetExtension(path)}");
        File.Move(path, aside);
        return $"the audit log did not verify at start ({check.Message}); it was moved aside to {aside} and a new chain starts here";
    }
}

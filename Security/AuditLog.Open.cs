using System.Diagnostics;
using System.Globalization;
using System.Text;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

public sealed partial class AuditLog
{
    /// <summary>
    /// Opens <paramref name="path"/> for appending as the only writer of its folder, with the key and anchor of
    /// <paramref name="securityFolder"/> (the key is created there, 0600, when missing). A log that does not verify
    /// against the key and anchor is never continued: it is moved aside (<c>audit.&lt;time&gt;.rejected.jsonl</c>) and
    /// the new chain starts with a notice record saying what was found. Admin records furlgen left pending are folded
    /// in, at once and then every <see cref="AuditLogOptions.PendingPoll"/> when one is given. What peers cause is aggregated
    /// as <see cref="AuditLogOptions.AggregationInterval"/> says (default options when <paramref name="options"/> is null).
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
            var (anchored, start) = Continuation(full, anchor);
            var check = File.Exists(full) || anchored is not null && anchored.Seq > anchored.BaseSeq
                ? VerifyLive(full, key, anchored, start)
                : New(start);
            string? notice = null;
            if (!check.IsIntact && UnfinishedLastRecord(full, check, anchored) is { } unfinished)
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
                check = New(start);
            }

            if (anchor is { Seq: > 0 } && anchor.LogPath != full)
            {
                // Another log folder than last time: say so, since the old log loses the anchor that guarded its tail.
                notice = (notice is null ? "" : notice + "; ") +
                    $"the anchor moves here from {anchor.LogPath} (seq {anchor.Seq}), so a cut or swap of that log can no longer be detected";
            }

            var fileOptions = SecureFile.CreateOptions(FileMode.OpenOrCreate, FileShare.Read);
            fileOptions.BufferSize = 0;
            var stream = new FileStream(full, fileOptions);
            var log = new AuditLog(full, stream, writerLock, key, Path.GetFullPath(securityFolder), time, options, start, check);
            try
            {
                if (notice is not null)
                    log.Append(new AuditRecord(time.GetUtcNow(), null, null, null, null, "audit", "open", AuditRecord.Notice, notice));
                else
                    log.WriteAnchor(log._seq, log._mac);
                log.FoldPending();
                if (options.PendingPoll is { } period)
                    log._pendingTimer = time.CreateTimer(_ => log.FoldPendingQuietly(), null, period, period);
                if (log._aggregator is not null)
                    log._aggregationTimer = time.CreateTimer(_ => log.FlushAggregatedQuietly(), null, options.AggregationInterval, options.AggregationInterval);
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
    /// The anchor the live file is checked against (null when it names another log) and the record the live file
    /// continues from: the anchor's base, or with no anchor for this log, the newest sealed segment's last record.
    /// </summary>
    private static (AuditAnchor? Anchored, (long Seq, string Mac) Start) Continuation(string full, AuditAnchor? anchor)
    {
        var segments = AuditSegments.Sealed(full);
        if (anchor is not null && anchor.LogPath == full)
        {
            if (segments.Count > 0 && segments[^1].Last == anchor.Seq && anchor.BaseSeq < anchor.Seq)
            {
                // Stopped between sealing the live file and anchoring the next one: the anchor still names the sealed file.
                anchor = anchor with { BaseSeq = anchor.Seq, BaseMac = anchor.Mac, FileId = null };
            }

            return (anchor, (anchor.BaseSeq, anchor.BaseMac ?? AuditLine.Genesis));
        }

        return (null, segments.Count > 0 && AuditSegments.LastRecord(segments[^1].Path) is { } last ? last : (0, AuditLine.Genesis));
    }

    private static AuditVerification New((long Seq, string Mac) start) =>
        new(true, 0, null, "new", AuditFinding.Intact, start.Seq, start.Mac);

    private static long? UnfinishedLastRecord(string path, AuditVerification check, AuditAnchor? anchored)
    {
        if (check.Finding != AuditFinding.Damaged || anchored is not null && anchored.Seq > check.LastSeq)
            return null;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Position = check.GoodLength;
        return new AuditLineReader(stream).TryRead(out var tail) && !tail.Complete
            ? tail.Next - tail.Start
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

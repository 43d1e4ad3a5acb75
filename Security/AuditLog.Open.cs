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

            if (anchor is { Seq: > 0 } && anchor.LogPath != full)
            {
                // Another log folder than last time: say so, since the old log loses the anchor that guarded its tail.
                notice = (notice is null ? "" : notice + "; ") +
                    $"the anchor moves here from {anchor.LogPath} (seq {anchor.Seq}), so a cut or swap of that log can no longer be detected";
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

    private static long? UnfinishedLastRecord(string path, AuditVerification check, AuditAnchor? anchor)
    {
        if (check.Finding != AuditFinding.Damaged || anchor is not null && anchor.LogPath == path && anchor.Seq > check.LastSeq)
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

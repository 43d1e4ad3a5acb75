using System.Globalization;
using System.Text.Json;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

public sealed partial class AuditLog
{
    /// <summary>The folder inside the security folder where admin records wait for the log's writer: <c>audit.pending</c>.</summary>
    public const string PendingFolderName = "audit.pending";

    /// <summary>
    /// Records an admin action taken outside the controller (furlgen attenuate, revoke, rotate), naming this process's
    /// uid and pid as who acted. The record is written to <c>audit.pending</c> in the security folder (0600,
    /// atomically), since only one process writes the log; when no controller holds the log it is appended at once,
    /// otherwise the controller folds it in within its poll.
    /// </summary>
    /// <param name="logPath">The audit log.</param>
    /// <param name="securityFolder">The security folder with the audit key and anchor.</param>
    /// <param name="action">What was done: "attenuate", "revoke", "rotate".</param>
    /// <param name="outcome"><see cref="AuditRecord.Accepted"/>, or <see cref="AuditRecord.Refused"/> when furlgen refused it.</param>
    /// <param name="capabilityId">The capability acted on or created.</param>
    /// <param name="label">Its label.</param>
    /// <param name="detail">What changed, for people.</param>
    /// <returns>True when the record is already in the log; false when it waits for the running controller.</returns>
    /// <exception cref="CapClusterException">The record could not be written anywhere.</exception>
    public static bool SubmitAdmin(string logPath, string securityFolder, string action, string outcome, string? capabilityId, string? label, string detail)
    {
        var who = $"local uid {NativeFiles.Uid().ToString(CultureInfo.InvariantCulture)} pid {Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}";
        var record = new AuditRecord(DateTimeOffset.UtcNow, who, null, capabilityId, label, AuditRecord.AdminService, action, outcome, detail);
        var folder = Path.Combine(Path.GetFullPath(securityFolder), PendingFolderName);
        var name = $"{DateTime.UtcNow.Ticks.ToString("D19", CultureInfo.InvariantCulture)}-{Base32.Random(5)}.json";
        try
        {
            SecureFile.CreateFolder(folder);
            SecureFile.WriteAtomic(Path.Combine(folder, name), JsonSerializer.Serialize(record, PendingAuditJson.Default.AuditRecord));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CapClusterException($"{folder}: cannot record the admin action for the audit log ({e.Message})", e);
        }

        try
        {
            using var log = TryOpen(logPath, securityFolder, null, null, out _);
            return log is not null;
        }
        catch (CapClusterException)
        {
            // The record waits in audit.pending for the next writer that can append it.
            return false;
        }
    }

    /// <summary>Appends the admin records waiting in <c>audit.pending</c>, oldest first, and deletes each once written.</summary>
    /// <returns>How many were appended.</returns>
    /// <exception cref="AuditWriteException">The log could not be written (the rest stay pending).</exception>
    public int FoldPending()
    {
        // The poll's timer may fire again before a slow fold ends: one fold at a time, or a record is appended twice.
        if (Interlocked.Exchange(ref _folding, 1) == 1)
            return 0;
        try
        {
            return FoldPendingOnce();
        }
        finally
        {
            Volatile.Write(ref _folding, 0);
        }
    }

    private int FoldPendingOnce()
    {
        var folder = Path.Combine(_securityFolder, PendingFolderName);
        if (!Directory.Exists(folder))
            return 0;
        var folded = 0;
        foreach (var file in Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            AuditRecord record;
            try
            {
                record = JsonSerializer.Deserialize(File.ReadAllText(file), PendingAuditJson.Default.AuditRecord)
                    ?? throw new JsonException("empty document");
                if (record.Outcome is null)
                    throw new JsonException("no outcome");
            }
            catch (Exception e) when (e is JsonException or IOException or NotSupportedException)
            {
                record = new AuditRecord(_time.GetUtcNow(), null, null, null, null, AuditRecord.AdminService, "pending",
                    AuditRecord.Notice, $"an admin record waiting in {file} was unreadable ({e.Message}); it was discarded");
            }

            Append(record);
            File.Delete(file);
            folded++;
        }

        return folded;
    }

    private void FoldPendingQuietly()
    {
        try
        {
            FoldPending();
        }
        catch (Exception e) when (e is CapClusterException or IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // They stay pending; the next poll tries again.
        }
    }
}

using System.Text.Json;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// What a controller must remember about tasks across restarts, in <c>&lt;security&gt;/tasks.json</c> beside the
/// registry (mode 0600, replaced atomically): the highest task id it has reserved, so that a restarted controller never
/// hands out an id again, and how many tasks have been charged to each capability that has a task quota (a task counts
/// against its submitter and every ancestor with a quota). Not thread-safe: its owner calls it under one lock.
/// </summary>
public sealed class TaskLedger
{
    /// <summary>File name of the ledger in the security folder.</summary>
    public const string FileName = "tasks.json";

    private const int CurrentVersion = 1;

    private Dictionary<string, long> _charged;

    private TaskLedger(string path, long reservedThrough, Dictionary<string, long> charged)
    {
        FilePath = path;
        ReservedThrough = reservedThrough;
        _charged = charged;
    }

    /// <summary>The ledger file.</summary>
    public string FilePath { get; }

    /// <summary>Every id up to this one has been reserved (0 for a controller that never took a task).</summary>
    public long ReservedThrough { get; private set; }

    /// <summary>Tasks charged to each capability with a quota (a snapshot).</summary>
    public IReadOnlyDictionary<string, long> Charged => new Dictionary<string, long>(_charged, StringComparer.Ordinal);

    /// <summary>Opens the ledger of <paramref name="securityFolder"/>; an absent file is an empty ledger (nothing is written until a commit).</summary>
    /// <exception cref="CapClusterException">The file is unreadable or corrupt; the message names it.</exception>
    public static TaskLedger Open(string securityFolder)
    {
        var path = Path.Combine(Path.GetFullPath(securityFolder), FileName);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new TaskLedger(path, 0, new Dictionary<string, long>(StringComparer.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Corrupt(path, e.Message, e);
        }

        Document? document;
        try
        {
            document = JsonSerializer.Deserialize(json, RegistryJson.Default.Document);
        }
        catch (JsonException e)
        {
            throw Corrupt(path, e.Message, e);
        }

        if (document is null || document.Version != CurrentVersion)
            throw Corrupt(path, $"version {document?.Version} is not supported (expected {CurrentVersion})");
        if (document.ReservedThrough < 0 || document.Charged.Any(c => c.Value < 0 || !HolderCertificateExtension.IsValidId(c.Key)))
            throw Corrupt(path, "it holds a negative count or an invalid capability id");
        return new TaskLedger(path, document.ReservedThrough, new Dictionary<string, long>(document.Charged, StringComparer.Ordinal));
    }

    /// <summary>Tasks charged so far to <paramref name="capabilityId"/>.</summary>
    public long ChargedTo(string capabilityId) => _charged.GetValueOrDefault(capabilityId);

    /// <summary>
    /// Makes durable (fsync, then rename) that ids through <paramref name="reservedThrough"/> are reserved and that
    /// <paramref name="charges"/> more tasks count against those capabilities. Only once it returned may the ids be
    /// handed out and the tasks accepted.
    /// </summary>
    /// <exception cref="CapClusterException">It could not be written (the message names the file); the ledger is as it was.</exception>
    public void Commit(long reservedThrough, IEnumerable<KeyValuePair<string, long>> charges)
    {
        var charged = new Dictionary<string, long>(_charged, StringComparer.Ordinal);
        foreach (var (id, count) in charges)
        {
            charged[id] = charged.GetValueOrDefault(id) + count;
        }

        var reserved = Math.Max(ReservedThrough, reservedThrough);
        try
        {
            SecureFile.WriteAtomic(FilePath, JsonSerializer.Serialize(new Document(CurrentVersion, reserved, charged), RegistryJson.Default.Document) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CapClusterException(
                $"{FilePath}: the controller could not record its task ids and quotas ({e.Message}); no task is accepted until it can. Free space or fix the folder's permissions",
                e);
        }

        ReservedThrough = reserved;
        _charged = charged;
    }

    private static CapClusterException Corrupt(string path, string detail, Exception? inner = null) =>
        new($"{path}: the task ledger is unreadable: {detail}. Without it the controller cannot promise that task ids are " +
            "never reused or that quotas hold. Restore it from a backup; moving it aside starts afresh, and then ids of an " +
            "earlier run may be issued again and quotas count from zero", inner);

    /// <summary>The ledger file as it is written (see <see cref="RegistryJson"/>).</summary>
    internal sealed record Document(int Version, long ReservedThrough, Dictionary<string, long> Charged);
}

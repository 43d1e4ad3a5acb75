using System.Text.Json;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

public sealed partial class CapabilityRegistry
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(10);

    private (DateTime WriteTime, long Length)? _stamp;

    private string LockPath => FilePath + ".lock";

    /// <summary>
    /// Re-reads the file only if it changed since this registry last read or wrote it (cheap enough to poll every second,
    /// which is how a running controller honours a revocation made by furlgen).
    /// </summary>
    /// <returns><c>true</c> if the file had changed and was re-read.</returns>
    /// <exception cref="CapClusterException">The file became corrupt; the registry keeps its previous state.</exception>
    public bool ReloadIfChanged()
    {
        var current = Stamp();
        lock (_gate)
        {
            if (current == _stamp)
                return false;
        }
        Reload();
        return true;
    }

    private (DateTime, long)? Stamp()
    {
        var info = new FileInfo(FilePath);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : null;
    }

    /// <summary>
    /// Read-modify-write under the in-process gate and a cross-process lock file, so that two processes
    /// changing the registry (controller issuing, furlgen revoking) never lose each other's changes.
    /// </summary>
    private void Mutate(Func<Dictionary<string, CapabilityRecord>, bool> change)
    {
        lock (_gate)
        {
            using var fileLock = AcquireFileLock();
            var exists = File.Exists(FilePath);
            var records = ReadFile();
            var changed = change(records);
            if (changed || !exists)
                WriteFile(records);
            Replace(records);
            _stamp = Stamp();
        }
    }

    private void Replace(Dictionary<string, CapabilityRecord> records)
    {
        _records = records;
        _snapshot = records.Values.OrderBy(r => r.Created).ThenBy(r => r.Id, StringComparer.Ordinal).ToArray();
    }

    private Dictionary<string, CapabilityRecord> ReadFile()
    {
        string json;
        try
        {
            json = File.ReadAllText(FilePath);
        }
        catch (FileNotFoundException)
        {
            return new Dictionary<string, CapabilityRecord>(StringComparer.Ordinal);
        }
        RegistryDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, RegistryJson.Default.RegistryDocument);
        }
        catch (JsonException e)
        {
            throw SecurityErrors.RegistryCorrupt(FilePath, e.Message, e);
        }
        if (document is null || document.Capabilities is null)
            throw SecurityErrors.RegistryCorrupt(FilePath, "it holds no capability list");
        if (document.Version != RegistryDocument.CurrentVersion)
            throw SecurityErrors.RegistryCorrupt(FilePath, $"version {document.Version} is not supported (expected {RegistryDocument.CurrentVersion})");
        var records = new Dictionary<string, CapabilityRecord>(StringComparer.Ordinal);
        foreach (var record in document.Capabilities)
        {
            if (record is null || !HolderCertificateExtension.IsValidId(record.Id) || !CapabilityInterfaces.IsKnown(record.Interface)
                || record.SecretHash is not { Length: 64 })
                throw SecurityErrors.RegistryCorrupt(FilePath, $"record {records.Count + 1} is incomplete or invalid");
            if (!records.TryAdd(record.Id, record))
                throw SecurityErrors.RegistryCorrupt(FilePath, $"capability {record.Id} appears twice");
        }
        return records;
    }

    private void WriteFile(Dictionary<string, CapabilityRecord> records)
    {
        var ordered = records.Values.OrderBy(r => r.Created).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();
        var json = JsonSerializer.Serialize(new RegistryDocument(RegistryDocument.CurrentVersion, ordered), RegistryJson.Default.RegistryDocument);
        SecureFile.WriteAtomic(FilePath, json + "\n");
    }

    // Another process holds the lock file open: what .NET reports for a lock (FileShare.None) it cannot take.
    private bool IsHeldByAnother(IOException e) => e.HResult == unchecked((int)0x80070020) && File.Exists(LockPath);

    private FileStream AcquireFileLock()
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var options = SecureFile.CreateOptions(FileMode.OpenOrCreate);
        while (true)
        {
            try
            {
                return new FileStream(LockPath, options);
            }
            catch (IOException e) when (IsHeldByAnother(e) && System.Diagnostics.Stopwatch.GetElapsedTime(started) < LockTimeout)
            {
                Thread.Sleep(20);
            }
            catch (IOException e) when (IsHeldByAnother(e))
            {
                throw SecurityErrors.RegistryBusy(FilePath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A read-only or full disk, a folder of another user: waiting cannot help.
                throw SecurityErrors.RegistryUnwritable(FilePath, e);
            }
        }
    }
}

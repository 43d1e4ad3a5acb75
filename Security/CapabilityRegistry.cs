using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// The capabilities a controller has issued, persisted in <c>&lt;security&gt;/registry.json</c> (mode 0600,
/// replaced atomically on every change). Thread-safe. Every change re-reads the file under a lock file first,
/// so a revocation written by another process (furlgen) is never overwritten.
/// </summary>
public sealed partial class CapabilityRegistry
{
    /// <summary>File name of the registry in the security folder.</summary>
    public const string FileName = "registry.json";

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private Dictionary<string, CapabilityRecord> _records = new(StringComparer.Ordinal);
    private IReadOnlyList<CapabilityRecord> _snapshot = [];

    private CapabilityRegistry(string path, TimeProvider time)
    {
        FilePath = path;
        _time = time;
    }

    /// <summary>The registry file.</summary>
    public string FilePath { get; }

    /// <summary>Every record, in issue order (a snapshot).</summary>
    public IReadOnlyList<CapabilityRecord> All
    {
        get
        {
            lock (_gate)
                return _snapshot;
        }
    }

    /// <summary>Opens the registry in <paramref name="securityFolder"/>, creating an empty one (and the folder) if absent.</summary>
    /// <param name="securityFolder">The cluster's security folder.</param>
    /// <param name="time">Clock for issue, expiry and revocation times; <see cref="TimeProvider.System"/> by default.</param>
    /// <exception cref="CapClusterException">The registry file is corrupt; the message names it.</exception>
    public static CapabilityRegistry LoadOrCreate(string securityFolder, TimeProvider? time = null)
    {
        SecureFile.CreateFolder(securityFolder);
        var registry = new CapabilityRegistry(Path.Combine(Path.GetFullPath(securityFolder), FileName), time ?? TimeProvider.System);
        registry.Mutate(_ => true);
        return registry;
    }

    /// <summary>The record for <paramref name="id"/>, or <c>null</c>.</summary>
    public CapabilityRecord? Find(string id)
    {
        lock (_gate)
            return _records.GetValueOrDefault(id);
    }

    /// <summary>
    /// Whether <paramref name="id"/> is <paramref name="ancestorId"/> or was derived from it, through any number of
    /// attenuations (following <see cref="CapabilityRecord.ParentId"/>).
    /// </summary>
    public bool IsSelfOrDerivedFrom(string id, string ancestorId)
    {
        lock (_gate)
        {
            return IsSelfOrDerived(_records, id, ancestorId);
        }
    }

    private static bool IsSelfOrDerived(Dictionary<string, CapabilityRecord> records, string id, string ancestorId)
    {
        for (var (current, steps) = (id, 0); current is not null && steps <= records.Count; current = records.GetValueOrDefault(current)?.ParentId, steps++)
        {
            if (string.Equals(current, ancestorId, StringComparison.Ordinal))
                return true;
        }

        return false;
    }

    /// <summary>
    /// Why <paramref name="file"/>'s URL and holder certificate are not the two halves of one capability this registry
    /// issued (the secret of one and the certificate of another, say), or <c>null</c> when they are. The file itself
    /// cannot tell: its URL holds a secret, its certificate an id, and only the registry links them.
    /// </summary>
    public string? Mismatch(CapabilityFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var id = file.CapabilityId;
        if (Find(id) is not { } record)
            return SecurityErrors.PairUnknownCertificate(id);
        if (record.CertificateSerial != file.HolderCertificate.SerialNumber)
            return SecurityErrors.PairOtherCertificate(id, file.HolderCertificate.SerialNumber, record.CertificateSerial);
        if (CapabilitySecret.Matches(file.Url.Secret, record.SecretHash))
            return null;
        var owner = All.FirstOrDefault(r => CapabilitySecret.Matches(file.Url.Secret, r.SecretHash));
        return SecurityErrors.PairOtherSecret(record, owner);
    }

    /// <summary>Re-reads the file, picking up changes made by another process.</summary>
    /// <exception cref="CapClusterException">The file became corrupt; the registry keeps its previous state.</exception>
    public void Reload()
    {
        lock (_gate)
        {
            var stamp = Stamp();
            Replace(ReadFile());
            _stamp = stamp;
        }
    }

    /// <summary>
    /// Revokes <paramref name="id"/> and every capability derived from it (following <see cref="CapabilityRecord.ParentId"/>).
    /// Revoking again keeps the first revocation time.
    /// </summary>
    /// <returns><c>false</c> if <paramref name="id"/> is unknown.</returns>
    public bool Revoke(string id)
    {
        var found = false;
        Mutate(records =>
        {
            if (!records.ContainsKey(id))
                return false;
            found = true;
            var now = _time.GetUtcNow();
            var doomed = new HashSet<string>(StringComparer.Ordinal) { id };
            for (var grew = true; grew;)
            {
                grew = false;
                foreach (var record in records.Values)
                {
                    if (record.ParentId is { } parent && doomed.Contains(parent) && doomed.Add(record.Id))
                        grew = true;
                }
            }
            foreach (var doomedId in doomed)
            {
                var record = records[doomedId];
                if (!record.Revoked)
                    records[doomedId] = record with { Revoked = true, RevokedAt = now };
            }
            return true;
        });
        return found;
    }

    /// <summary>
    /// The gate's check, in this order: unknown id, secret missing or mismatched (compared in constant time), revoked,
    /// expired, wrong interface, method not allowed. The secret comes before the capability's state, so a stolen
    /// certificate without its secret learns nothing of it. Reasons never contain the secret.
    /// </summary>
    /// <param name="capabilityId">The id from the client certificate.</param>
    /// <param name="iface">The interface of the service being called.</param>
    /// <param name="methodName">The method being called (matched against <see cref="CapabilityRecord.AllowedMethods"/> by
    /// <see cref="CapabilityMethods.Allows"/>), or <c>null</c> for a call every live capability may make (<see cref="CapabilityMethods.Check"/>).</param>
    /// <param name="presentedSecret">The secret sent with the call, or <c>null</c> if none was.</param>
    public CapabilityDecision Check(string capabilityId, string iface, string? methodName, string? presentedSecret)
    {
        var record = Find(capabilityId);
        if (record is null)
            return new(CapabilityRefusal.Unknown, SecurityErrors.UnknownCapability(capabilityId), null);
        if (presentedSecret is null)
            return new(CapabilityRefusal.SecretMismatch, SecurityErrors.SecretMissing, record);
        if (!CapabilitySecret.Matches(presentedSecret, record.SecretHash))
            return new(CapabilityRefusal.SecretMismatch, SecurityErrors.SecretMismatch, record);
        if (record.Revoked)
            return new(CapabilityRefusal.Revoked, SecurityErrors.Revoked(record.Id, record.RevokedAt), record);
        if (record.Expires is { } expires && _time.GetUtcNow() >= expires)
            return new(CapabilityRefusal.Expired, SecurityErrors.Expired(record.Id, expires), record);
        if (iface != record.Interface)
        {
            var service = CapabilityInterfaces.IsKnown(iface) ? CapabilityInterfaces.ServiceName(iface) : iface;
            return new(CapabilityRefusal.WrongInterface, SecurityErrors.WrongInterface(record.Interface, service, iface), record);
        }
        if (methodName is not null && record.AllowedMethods is { } allowed && !CapabilityMethods.Allows(iface, allowed, methodName))
            return new(CapabilityRefusal.MethodNotAllowed, SecurityErrors.MethodNotAllowed(record.Id, methodName), record);
        return new(CapabilityRefusal.None, null, record);
    }
}

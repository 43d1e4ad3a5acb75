using System.Security.Cryptography.X509Certificates;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

public sealed partial class CapabilityRegistry
{
    /// <summary>
    /// Issues a capability: a fresh id (<c>cap_</c> plus 16 base32 characters) and secret, a holder certificate
    /// from <paramref name="ca"/> expiring at <paramref name="expires"/> (100 years by default), and a record.
    /// A derived capability (<paramref name="parentId"/>) can only narrow its parent: same interface, no later
    /// expiry, a subset of its methods, no larger task quota, its own engines if it had them, the engines of the same task
    /// capability (or one derived from it) if it served one; limits left <c>null</c> are inherited.
    /// </summary>
    /// <param name="ca">The controller CA.</param>
    /// <param name="iface">The interface granted.</param>
    /// <param name="locations">Where the controller listens (at least one).</param>
    /// <param name="label">Who or what it is for; <c>null</c> by default.</param>
    /// <param name="expires">Expiry; <c>null</c> (default) for never (or the parent's expiry).</param>
    /// <param name="allowedMethods">Method allow-list; <c>null</c> (default) for all (or the parent's list).</param>
    /// <param name="maxTasks">Task quota; <c>null</c> (default) for none (or the parent's quota).</param>
    /// <param name="parentId">The capability this one is derived from; <c>null</c> by default.</param>
    /// <param name="ownEngines">A task capability: its tasks run only on engines that serve it (<see cref="CapabilityRecord.OwnEngines"/>).</param>
    /// <param name="serves">An engine capability: the task capability whose tasks alone its engines run (<see cref="CapabilityRecord.Serves"/>).</param>
    /// <exception cref="ArgumentException">
    /// Unknown interface, no locations, unknown or revoked parent, a widening of the parent, own engines for other than a
    /// task capability, or serving for other than an engine capability or other than a live task capability.
    /// </exception>
    public IssuedCapability Issue(CertificateAuthority ca, string iface, IReadOnlyList<CapabilityLocation> locations,
        string? label = null, DateTimeOffset? expires = null, IReadOnlyList<string>? allowedMethods = null,
        long? maxTasks = null, string? parentId = null, bool ownEngines = false, string? serves = null)
    {
        ArgumentNullException.ThrowIfNull(ca);
        ArgumentNullException.ThrowIfNull(locations);
        _ = CapabilityInterfaces.ServiceName(iface);
        if (locations.Count == 0)
            throw new ArgumentException("a capability needs at least one controller location", nameof(locations));
        if (maxTasks is < 0)
            throw new ArgumentOutOfRangeException(nameof(maxTasks), "the task quota cannot be negative");
        if (ownEngines && iface != CapabilityInterfaces.Task)
            throw new ArgumentException($"only a task capability can have engines of its own, and this one grants {iface} (give the engines' capability --serves instead)", nameof(ownEngines));
        if (serves is not null && iface != CapabilityInterfaces.Engine)
            throw new ArgumentException($"only an engine capability can serve a task capability, and this one grants {iface}", nameof(serves));

        IssuedCapability? issued = null;
        Mutate(records =>
        {
            var (effectiveExpires, methods, quota, own, served) = (expires, allowedMethods?.ToArray(), maxTasks, ownEngines, serves);
            if (parentId is not null)
                (effectiveExpires, methods, quota, own, served) = Narrow(records, parentId, iface, expires, methods, maxTasks, ownEngines, serves);
            if (served is not null)
                CheckServed(records, served);

            string id;
            do
                id = "cap_" + Base32.Random(10);
            while (records.ContainsKey(id));
            var secret = CapabilitySecret.Create();
            var certificate = ca.IssueHolderCertificate(id, iface, effectiveExpires);
            var record = new CapabilityRecord(id, iface, label, _time.GetUtcNow(), effectiveExpires,
                CapabilitySecret.Hash(secret), certificate.SerialNumber, Revoked: false, parentId, methods, quota, OwnEngines: own, Serves: served);
            var url = new CapabilityUrl(ca.Fingerprint, locations.ToArray(), iface, secret);
            records[id] = record;
            issued = new IssuedCapability(record, new CapabilityFile(url, certificate, X509CertificateLoader.LoadCertificate(ca.Certificate.RawData)));
            return true;
        });
        return issued!;
    }

    private static (DateTimeOffset?, string[]?, long?, bool, string?) Narrow(Dictionary<string, CapabilityRecord> records, string parentId,
        string iface, DateTimeOffset? expires, string[]? methods, long? maxTasks, bool ownEngines, string? serves)
    {
        if (!records.TryGetValue(parentId, out var parent))
            throw new ArgumentException(SecurityErrors.UnknownCapability(parentId), nameof(parentId));
        if (parent.Revoked)
            throw new ArgumentException(SecurityErrors.Revoked(parent.Id, parent.RevokedAt), nameof(parentId));
        if (parent.Interface != iface)
            throw new ArgumentException($"capability {parent.Id} grants {parent.Interface}; a capability derived from it cannot grant {iface}", nameof(iface));
        if (parent.Expires is { } parentExpires && expires > parentExpires)
            throw new ArgumentException($"a derived capability cannot outlive {parent.Id}, which expires at {SecurityErrors.Iso(parentExpires)}", nameof(expires));
        if (parent.AllowedMethods is { } parentMethods && methods?.FirstOrDefault(m => !parentMethods.Contains(m, StringComparer.Ordinal)) is { } extra)
            throw new ArgumentException($"capability {parent.Id} does not allow method {extra}, so a capability derived from it cannot", nameof(methods));
        if (parent.MaxTasks is { } parentQuota && maxTasks > parentQuota)
            throw new ArgumentException($"a derived capability cannot have a task quota above {parent.Id}'s {parentQuota}", nameof(maxTasks));
        if (parent.Serves is { } parentServes && serves is not null && !IsSelfOrDerived(records, serves, parentServes))
            throw new ArgumentException($"capability {parent.Id}'s engines serve only the tasks of {parentServes}, so engines of a capability derived from it cannot serve {serves}", nameof(serves));
        return (expires ?? parent.Expires, methods ?? parent.AllowedMethods?.ToArray(), maxTasks ?? parent.MaxTasks, ownEngines || parent.OwnEngines, serves ?? parent.Serves);
    }

    // The capability whose tasks engines are to serve: a task capability, live.
    private static void CheckServed(Dictionary<string, CapabilityRecord> records, string served)
    {
        if (!records.TryGetValue(served, out var record))
            throw new ArgumentException(SecurityErrors.UnknownCapability(served), nameof(served));
        if (record.Interface != CapabilityInterfaces.Task)
            throw new ArgumentException($"engines serve the tasks of a task capability, and {served} grants {record.Interface}", nameof(served));
        if (record.Revoked)
            throw new ArgumentException(SecurityErrors.Revoked(record.Id, record.RevokedAt), nameof(served));
    }
}

using CapCluster.Security;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal;

/// <summary>
/// Keeps the security folder's three .cap files valid for this run. A capability
/// lives as long as the security folder (until it is revoked or rotated): a file that
/// still names a live capability of this CA is kept, and only rewritten when the
/// controller's locations changed. Anything else gets a newly issued capability.
/// </summary>
internal static class CapabilityFiles
{
    public static IReadOnlyDictionary<string, string> Ensure(
        ClusterPaths paths,
        CertificateAuthority authority,
        CapabilityRegistry registry,
        IReadOnlyList<CapabilityLocation> engineLocations,
        IReadOnlyList<CapabilityLocation> clientLocations,
        AuditLog audit,
        TimeProvider time,
        ILogger logger)
    {
        var written = new Dictionary<string, string>();
        foreach (var iface in CapabilityInterfaces.All)
        {
            var path = paths.CapFile(iface);
            var locations = iface == CapabilityInterfaces.Engine ? engineLocations : clientLocations;
            var existing = TryReadLive(path, iface, authority, registry, time);
            if (existing is null)
            {
                var issued = registry.Issue(authority, iface, locations);
                issued.File.Write(path);
                audit.Append(new AuditRecord(time.GetUtcNow(), $"controller pid {Environment.ProcessId}", null, issued.Record.Id, issued.Record.Label,
                    AuditRecord.ControllerService, "issue", AuditRecord.Accepted, $"new {iface} capability written to {path}"));
                ControllerLog.CapabilityWritten(logger, issued.Record.Id, iface, path);
            }
            else if (!existing.Url.Locations.SequenceEqual(locations))
            {
                var record = registry.Find(existing.CapabilityId)!;
                existing.WithLocations(locations).Write(path, record.Label, record.Expires);
                ControllerLog.CapabilityRelocated(logger, path);
            }

            written[iface] = path;
        }

        return written;
    }

    private static CapabilityFile? TryReadLive(string path, string iface, CertificateAuthority authority, CapabilityRegistry registry, TimeProvider time)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        CapabilityFile file;
        try
        {
            file = CapabilityFile.Read(path);
        }
        catch (CapabilityFileException)
        {
            // Unreadable: a new capability replaces it. The old one, if it was ever valid, stays in the registry for furlgen to revoke.
            return null;
        }

        var record = registry.Find(file.CapabilityId);
        var live = file.Url.CaFingerprint == authority.Fingerprint
            && file.Interface == iface
            && record is { Revoked: false }
            && (record.Expires is null || record.Expires > time.GetUtcNow())
            && CapabilitySecret.Matches(file.Url.Secret, record.SecretHash);
        return live ? file : null;
    }
}

using System.Globalization;
using CapCluster.Security;
using Spectre.Console;

namespace CapCluster.Furlgen.Internal;

/// <summary>
/// <c>furlgen attenuate</c>, <c>list</c>, <c>revoke</c> and <c>rotate</c>. They change the registry in the security
/// folder directly (under its lock file); a running controller re-reads it within 250 ms.
/// </summary>
internal sealed class AdminCommands(IAnsiConsole console, ClusterPaths paths)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public int Attenuate(string parentPath, string label, string? expires, string? methods, long? maxTasks, bool ownEngines, string? serves, string output)
    {
        var parentFile = CapabilityFile.Read(parentPath);
        using var authority = OpenAuthority();
        if (parentFile.Url.CaFingerprint != authority.Fingerprint)
        {
            throw new CapClusterException($"{parentPath} was issued by another controller (CA {parentFile.Url.CaFingerprint[..12]}...) than the one of {paths.SecurityFolder} (CA {authority.Fingerprint[..12]}...); use --profile to pick its folder");
        }

        var registry = OpenRegistry();
        var parent = registry.Find(parentFile.CapabilityId)
            ?? throw new CapClusterException($"{parentPath}: capability {parentFile.CapabilityId} is not in {registry.FilePath}");
        var allowed = methods is null ? null : ParseMethods(methods, parent.Interface);
        var expiry = expires is null ? (DateTimeOffset?)null : ExpiryParser.Parse(expires, DateTimeOffset.UtcNow);

        IssuedCapability issued;
        try
        {
            issued = registry.Issue(authority, parent.Interface, parentFile.Url.Locations, label, expiry, allowed, maxTasks, parent.Id, ownEngines, serves is null ? null : IdOf(serves));
        }
        catch (ArgumentException e)
        {
            Audit("attenuate", AuditRecord.Refused, parent.Id, label, $"deriving from {parent.Id} refused: {StripParameter(e.Message)}");
            throw new CapClusterException($"refused: {StripParameter(e.Message)}");
        }

        issued.File.Write(output, issued.Record.Label, issued.Record.Expires);
        var r = issued.Record;
        Audit("attenuate", AuditRecord.Accepted, r.Id, r.Label, $"derived from {parent.Id}; {Caveats(r)}");
        console.WriteLine($"{output}: {r.Interface} capability {r.Id} for \"{r.Label}\", derived from {parent.Id}");
        console.WriteLine($"  {Caveats(r)}");
        if (r.Serves is { } served)
        {
            console.WriteLine($"  start its engines with: capengine --cap-file {output} (as a user that cannot read {paths.SecurityFolder})");
        }
        else if (r.OwnEngines)
        {
            console.WriteLine($"  its tasks wait until an engine serves it: furlgen attenuate {paths.CapFile(CapabilityInterfaces.Engine)} --label {label}-engines --serves {r.Id} -o {label}-engine.cap");
        }

        console.WriteLine($"  revoke it with: furlgen revoke {r.Id}");
        return 0;
    }

    /// <summary>What a capability may do beyond its interface, in one line (attenuate's output and audit record).</summary>
    public static string Caveats(CapabilityRecord r) =>
        $"expires {Describe(r.Expires)}; methods {(r.AllowedMethods is { } listed ? string.Join(",", listed) : "all")}; task quota {r.MaxTasks?.ToString(Invariant) ?? "none"}"
        + (r.OwnEngines ? "; its tasks run only on engines that serve it" : string.Empty)
        + (r.Serves is { } served ? $"; its engines run only the tasks of {served}" : string.Empty);

    // A capability named by its id or by a .cap file of it.
    private static string IdOf(string idOrFile) => File.Exists(idOrFile) ? CapabilityFile.Read(idOrFile).CapabilityId : idOrFile;

    public int List(string auditLogPath)
    {
        var registry = OpenRegistry();
        var lastUsed = LastUsed(auditLogPath);
        var table = new Table().Border(TableBorder.Square);
        foreach (var column in new[] { "Id", "Interface", "Label", "Parent", "Expires (UTC)", "Revoked", "Last used (UTC)" })
        {
            table.AddColumn(column);
        }

        var now = DateTimeOffset.UtcNow;
        foreach (var r in registry.All)
        {
            var expiry = r.Expires is { } e && e <= now ? $"[red]{Time(e)} (expired)[/]" : Markup.Escape(Describe(r.Expires));
            table.AddRow(
                r.Id,
                r.Interface,
                Markup.Escape(r.Label ?? "-"),
                r.ParentId ?? "-",
                expiry,
                r.Revoked ? $"[red]{(r.RevokedAt is { } at ? Time(at) : "yes")}[/]" : "no",
                lastUsed.TryGetValue(r.Id, out var used) ? Time(used) : "never");
        }

        console.Write(table);
        console.WriteLine($"{registry.All.Count} capabilit{(registry.All.Count == 1 ? "y" : "ies")} in {registry.FilePath}");
        return 0;
    }

    public int Revoke(string idOrFile)
    {
        var id = IdOf(idOrFile);
        var registry = OpenRegistry();
        var before = registry.All.Where(r => r.Revoked).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        if (!registry.Revoke(id))
        {
            throw new CapClusterException($"no capability {id} in {registry.FilePath} (see furlgen list)");
        }

        var now = registry.All.Where(r => r.Revoked && !before.Contains(r.Id)).ToList();
        if (now.Count == 0)
        {
            console.WriteLine($"{id} was already revoked");
            return 0;
        }

        foreach (var r in now)
        {
            console.WriteLine($"revoked {r.Id} ({r.Interface}{(r.Label is null ? string.Empty : ", " + r.Label)}){(r.Id == id ? string.Empty : ", derived from it")}");
        }

        var target = registry.Find(id);
        Audit("revoke", AuditRecord.Accepted, id, target?.Label,
            $"revoked {string.Join(", ", now.Select(r => r.Id))} ({now.Count} capabilit{(now.Count == 1 ? "y" : "ies")}, derived ones included)");

        console.WriteLine("a running controller refuses it within 1 s and closes its connections");
        return 0;
    }

    public int Rotate(string iface)
    {
        _ = CapabilityInterfaces.ServiceName(iface);
        var path = paths.CapFile(iface);
        if (!File.Exists(path))
        {
            throw new CapClusterException($"{path} does not exist (start the controller once to create it)");
        }

        var old = CapabilityFile.Read(path);
        using var authority = OpenAuthority();
        var registry = OpenRegistry();
        var oldRecord = registry.Find(old.CapabilityId);
        var issued = registry.Issue(authority, iface, old.Url.Locations, oldRecord?.Label);
        issued.File.Write(path, issued.Record.Label, issued.Record.Expires);
        registry.Revoke(old.CapabilityId);
        Audit("rotate", AuditRecord.Accepted, issued.Record.Id, issued.Record.Label,
            $"new {iface} capability {issued.Record.Id} written to {path}; the old one, {old.CapabilityId}, and those derived from it revoked");
        console.WriteLine($"{path}: new {iface} capability {issued.Record.Id}; the old one, {old.CapabilityId}, and every capability derived from it are revoked");
        if (iface == CapabilityInterfaces.Engine)
        {
            console.WriteLine("engines still using the old file are disconnected within 1 s: restart them with the new file");
        }

        return 0;
    }

    // The action is done whatever happens here: an admin who can write the registry must be able to revoke even when
    // the log folder is full; the failure is said, not hidden.
    private void Audit(string action, string outcome, string? capabilityId, string? label, string detail)
    {
        try
        {
            if (!AuditLog.SubmitAdmin(paths.AuditLogFile, paths.SecurityFolder, action, outcome, capabilityId, label, detail))
            {
                console.WriteLine($"audit record left in {Path.Combine(paths.SecurityFolder, AuditLog.PendingFolderName)} for the controller to append");
            }
        }
        catch (CapClusterException e)
        {
            Console.Error.WriteLine($"furlgen {action}: warning: not recorded in the audit log: {e.Message}");
        }
    }

    private static Dictionary<string, DateTimeOffset> LastUsed(string auditLogPath)
    {
        var last = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        if (AuditLog.Files(auditLogPath).Count == 0)
        {
            return last;
        }

        foreach (var record in AuditLog.ReadAll(auditLogPath))
        {
            if (record.Outcome == AuditRecord.Accepted && !record.ByOperator && record.CapabilityId is { } id)
            {
                last[id] = record.Time;
            }
        }

        return last;
    }

    private static IReadOnlyList<string> ParseMethods(string list, string iface)
    {
        var methods = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();
        var known = CapabilityMethods.For(iface);
        if (methods.FirstOrDefault(m => !known.Contains(m, StringComparer.Ordinal)) is { } unknown)
        {
            throw new CapClusterException($"--methods: {iface} has no method {unknown} (known: {string.Join(", ", known)})");
        }

        return methods.Length > 0 ? methods : throw new CapClusterException("--methods: give at least one method");
    }

    private CertificateAuthority OpenAuthority()
    {
        if (!File.Exists(Path.Combine(paths.SecurityFolder, CertificateAuthority.KeyFileName)))
        {
            throw new CapClusterException($"no controller CA in {paths.SecurityFolder}: furlgen runs on the controller's host, with its security folder (--profile picks another)");
        }

        return CertificateAuthority.LoadOrCreate(paths.SecurityFolder);
    }

    private CapabilityRegistry OpenRegistry()
    {
        if (!File.Exists(Path.Combine(paths.SecurityFolder, CapabilityRegistry.FileName)))
        {
            throw new CapClusterException($"no capability registry in {paths.SecurityFolder}: start the controller once, or use --profile");
        }

        return CapabilityRegistry.LoadOrCreate(paths.SecurityFolder);
    }

    // ArgumentException appends " (Parameter 'x')", which means nothing to a furlgen user.
    private static string StripParameter(string message)
    {
        var at = message.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        return at > 0 ? message[..at] : message;
    }

    private static string Describe(DateTimeOffset? expires) => expires is { } e ? Time(e) : "never";

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Invariant);
}

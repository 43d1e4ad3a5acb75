using CapCluster.Security;
using Spectre.Console;

namespace CapCluster.Furlgen.Internal;

/// <summary><c>furlgen show</c> and <c>furlgen verify</c>.</summary>
internal sealed class CapabilityCommands(IAnsiConsole console)
{
    public int Show(string path, ClusterPaths paths)
    {
        var file = CapabilityFile.Read(path);
        var record = TryFindRecord(paths, file);
        var grid = new Grid().AddColumn().AddColumn();
        Row(grid, "file", path);
        Row(grid, "interface", file.Interface);
        Row(grid, "service", CapabilityInterfaces.ServiceName(file.Interface));
        Row(grid, "controller", string.Join(", ", file.Url.Locations));
        Row(grid, "CA pin", file.Url.CaFingerprint);
        Row(grid, "capability id", file.CapabilityId);
        Row(grid, "holder certificate", $"serial {file.HolderCertificate.SerialNumber}, valid {file.HolderCertificate.NotBefore.ToUniversalTime():u} to {file.HolderCertificate.NotAfter.ToUniversalTime():u}");
        if (record is not null)
        {
            Row(grid, "label", record.Label ?? "(none)");
            Row(grid, "expires", record.Expires?.ToString("u") ?? "never");
            Row(grid, "allowed methods", record.AllowedMethods is { Count: > 0 } m ? string.Join(", ", m) : "all of the interface");
            Row(grid, "task quota", record.MaxTasks?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none");
            Row(grid, "revoked", record.Revoked ? $"yes ({record.RevokedAt:u})" : "no");
        }
        else
        {
            Row(grid, "registry", "not readable here (label, expiry, caveats live on the controller's host)");
        }

        console.Write(grid);
        return 0;
    }

    public int Verify(string path)
    {
        var file = CapabilityFile.Read(path);
        var now = DateTimeOffset.UtcNow;
        var holder = file.HolderCertificate;
        if (now < holder.NotBefore.ToUniversalTime() || now > holder.NotAfter.ToUniversalTime())
        {
            console.WriteLine($"{path}: the holder certificate is outside its validity ({holder.NotBefore.ToUniversalTime():u} to {holder.NotAfter.ToUniversalTime():u})");
            return 1;
        }

        console.WriteLine($"{path}: OK - a {file.Interface} capability ({file.CapabilityId}) of the controller {file.Url.CaFingerprint[..12]}... at {string.Join(", ", file.Url.Locations)}; holder certificate valid until {holder.NotAfter.ToUniversalTime():u}");
        return 0;
    }

    private static CapabilityRecord? TryFindRecord(ClusterPaths paths, CapabilityFile file)
    {
        try
        {
            return File.Exists(Path.Combine(paths.SecurityFolder, "registry.json"))
                ? CapabilityRegistry.LoadOrCreate(paths.SecurityFolder).Find(file.CapabilityId)
                : null;
        }
        catch (Exception e) when (e is CapClusterException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void Row(Grid grid, string name, string value) =>
        grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value));
}

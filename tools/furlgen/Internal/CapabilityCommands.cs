using System.Globalization;
using CapCluster.Connection;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Spectre.Console;

namespace CapCluster.Furlgen.Internal;

/// <summary><c>furlgen show</c> and <c>furlgen verify [--online]</c>.</summary>
internal sealed class CapabilityCommands(IAnsiConsole console)
{
    private static readonly TimeSpan OnlineTimeout = TimeSpan.FromSeconds(15);

    public int Show(string path, ClusterPaths paths)
    {
        var file = CapabilityFile.Read(path);
        var record = TryOpenRegistry(paths)?.Find(file.CapabilityId);
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
            if (record.OwnEngines || record.Serves is not null)
            {
                Row(grid, "engines", record.Serves is { } served ? $"run only the tasks of {served} (and of capabilities derived from it)" : "only those that serve it (furlgen attenuate engine.cap --serves)");
            }

            Row(grid, "revoked", record.Revoked ? $"yes ({record.RevokedAt:u})" : "no");
        }
        else
        {
            Row(grid, "registry", "not readable here (label, expiry, caveats live on the controller's host)");
        }

        console.Write(grid);
        return 0;
    }

    public int Verify(string path, bool online, ClusterPaths paths)
    {
        var file = CapabilityFile.Read(path);
        var registry = TryOpenRegistry(paths);
        if (registry?.Mismatch(file) is { } mismatch)
        {
            console.WriteLine($"{path}: {mismatch}");
            return 1;
        }

        var now = DateTimeOffset.UtcNow;
        var holder = file.HolderCertificate;
        if (now < holder.NotBefore.ToUniversalTime() || now > holder.NotAfter.ToUniversalTime())
        {
            console.WriteLine($"{path}: the holder certificate is outside its validity ({holder.NotBefore.ToUniversalTime():u} to {holder.NotAfter.ToUniversalTime():u})");
            return 1;
        }

        console.WriteLine($"{path}: OK - a {file.Interface} capability ({file.CapabilityId}) of the controller {file.Url.CaFingerprint[..12]}... at {string.Join(", ", file.Url.Locations)}; holder certificate valid until {holder.NotAfter.ToUniversalTime():u}");
        if (registry is null)
        {
            console.WriteLine($"{path}: not checked: whether the URL and the holder certificate are one capability's (only the controller's registry links them); run furlgen verify on the controller's host, or add --online");
        }

        return online ? VerifyOnline(path, file) : 0;
    }

    /// <summary>One real call (the service's Check method, which the gate admits for any live capability).</summary>
    private int VerifyOnline(string path, CapabilityFile file)
    {
        using var connection = ControllerConnection.Open(path, file.Interface);
        using var timeout = new CancellationTokenSource(OnlineTimeout);
        try
        {
            var reply = connection.CheckAsync(timeout.Token).GetAwaiter().GetResult();
            var expires = reply.ExpiresUnixMs == 0 ? "never" : DateTimeOffset.FromUnixTimeMilliseconds(reply.ExpiresUnixMs).ToString("u", CultureInfo.InvariantCulture);
            var label = reply.Label.Length == 0 ? "(none)" : reply.Label;
            console.WriteLine($"{path}: accepted by the controller - capability {reply.CapabilityId}, label {label}, expires {expires}");
            return 0;
        }
        catch (CapabilityRefusedException e)
        {
            console.WriteLine($"{path}: refused by the controller: {e.Reason}");
            return 1;
        }
        catch (ControllerUnreachableException e)
        {
            console.WriteLine($"{path}: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            console.WriteLine($"{path}: the controller did not answer within {OnlineTimeout.TotalSeconds:0} s");
            return 1;
        }
    }

    private static CapabilityRegistry? TryOpenRegistry(ClusterPaths paths)
    {
        try
        {
            return File.Exists(Path.Combine(paths.SecurityFolder, CapabilityRegistry.FileName))
                ? CapabilityRegistry.LoadOrCreate(paths.SecurityFolder)
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

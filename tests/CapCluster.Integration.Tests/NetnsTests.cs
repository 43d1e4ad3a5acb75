using System.Diagnostics;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Protocol;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>
/// CapCluster across several "hosts" (Linux network namespaces on one machine, 10.77.0.x): the controller on
/// one, engines and clients on others, sharing nothing but the .cap files copied to them. The clients run as
/// CapCluster.Integration.Tests.Client inside their namespace, since the test process cannot enter one.
/// </summary>
public sealed class NetnsTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // Disposed in reverse order: the namespaces (and every process in them) first, then the folders.
    private readonly List<IAsyncDisposable> resources = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        resources.Reverse();
        foreach (var resource in resources)
        {
            await resource.DisposeAsync();
        }
    }

    [NetnsFact]
    public async Task ControllerOnHostA_EnginesOnBAndC_ClientOnD_WithOnlyCopiedCapFiles()
    {
        var owner = Folder();
        var hosts = Hosts("a", "b", "c", "d", "e");
        var (a, b, c, d, e) = (hosts["a"], hosts["b"], hosts["c"], hosts["d"], hosts["e"]);
        await StartControllerAsync(hosts, a, owner);

        foreach (var engineHost in new[] { b, c })
        {
            var engineFolder = Folder();
            var copy = CopyInto(engineFolder, owner.CapFile(CapabilityInterfaces.Engine));
            hosts.Start(engineHost, Repository.App("capengine"), Env(engineFolder), "--cap-file", copy);
        }

        var clientFolder = Folder();
        var multiengine = CopyInto(clientFolder, owner.CapFile(CapabilityInterfaces.MultiEngine));

        var ids = await Client(hosts, d, clientFolder, "ids", multiengine, "2");
        Assert.True(ids.ExitCode == 0, ids.ToString());
        Assert.Equal("ids 0,1", ids.Output.Trim());

        // Each engine answers with its own address (its namespace's local routes): the code ran on host B and on host C.
        var execute = await Client(hosts, d, clientFolder, "execute", multiengine,
            "var t = File.ReadAllLines(\"/proc/net/fib_trie\"); " +
            "string.Join(\",\", t.Where((l, i) => i + 1 < t.Length && t[i + 1].Contains(\"/32 host LOCAL\") && l.Contains(\"10.77.\"))" +
            ".Select(l => l.Trim().TrimStart('|', '-', ' ')).Distinct()) + \" pid \" + Environment.ProcessId");
        Assert.True(execute.ExitCode == 0, execute.ToString());
        var results = Lines(execute.Output, "result ");
        Assert.Equal(2, results.Count);
        Assert.Equal([b.Address, c.Address], results.Select(r => r.Split(' ')[2].Trim('"')).Order());

        // Bulk data between hosts: the engines on B and C cannot reach the controller's local socket on A, so they
        // join their data lanes on its data port, and the controller splices them.
        var roundtrip = await Client(hosts, d, clientFolder, "roundtrip", multiengine, "8");
        Assert.True(roundtrip.ExitCode == 0, roundtrip.ToString());
        Assert.Equal(["roundtrip 0 equal", "roundtrip 1 equal"], Lines(roundtrip.Output, "roundtrip ").Order());
        var lanes = AuditLog.ReadAll(owner.Paths().AuditLogFile).Where(r => r.Method == "Lane" && r.Outcome == AuditRecord.Accepted).Select(r => r.Reason).Order();
        Assert.Equal(["data lane to engine 0, spliced, path=tls", "data lane to engine 1, spliced, path=tls"], lanes);

        // The controller saw the client come from D's address.
        Assert.Contains(AuditLog.ReadAll(owner.Paths().AuditLogFile), r =>
            r.Outcome == AuditRecord.Accepted && r.Service == CapClusterMethods.MultiEngineService && (r.RemoteAddress ?? "").Contains(d.Address, StringComparison.Ordinal));

        // Host E has no file at all.
        var eFolder = Folder();
        var missing = await Client(hosts, e, eFolder, "ids", Path.Combine(eFolder.BaseFolder, "security", "multiengine.cap"));
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains("no multiengine.cap file found", missing.Error);

        // A file whose secret was changed (certificates intact): the gate refuses it.
        var forged = Path.Combine(eFolder.BaseFolder, "forged.cap");
        var real = CapabilityFile.Read(multiengine);
        var secret = real.Url.Secret;
        CapCluster.Tests.Shared.PrivateFile.Write(forged, File.ReadAllText(multiengine).Replace(secret, (secret[0] == 'a' ? 'b' : 'a') + secret[1..], StringComparison.Ordinal));
        var refusedForged = await Client(hosts, e, eFolder, "ids", forged);
        Assert.True(refusedForged.ExitCode == 1, refusedForged.ToString());
        Assert.Contains("refused", refusedForged.Error);

        // A file from another controller (its own CA), pointed at this controller's address and port.
        var other = Path.Combine(eFolder.BaseFolder, "other.cap");
        var otherSecurity = Directory.CreateTempSubdirectory("capcluster-other-").FullName;
        try
        {
            using var authority = CertificateAuthority.LoadOrCreate(otherSecurity);
            CapabilityRegistry.LoadOrCreate(otherSecurity)
                .Issue(authority, CapabilityInterfaces.MultiEngine, real.Url.Locations, "mallory").File.Write(other);
        }
        finally
        {
            Directory.Delete(otherSecurity, recursive: true);
        }

        var refusedOther = await Client(hosts, e, eFolder, "ids", other);
        Assert.True(refusedOther.ExitCode == 1, refusedOther.ToString());
        Assert.DoesNotContain("ids ", refusedOther.Output);
        Assert.StartsWith("error ", refusedOther.Error);
    }

    [NetnsFact]
    public async Task ClientOnTheControllersHost_GetsAKernelOnlyLaneToAnEngineThere_AndATlsLaneToAnEngineInAnotherNamespace()
    {
        var owner = Folder();
        var hosts = Hosts("a", "b");
        var (a, b) = (hosts["a"], hosts["b"]);
        await StartControllerAsync(hosts, a, owner);
        hosts.Start(a, Repository.App("capengine"), Env(owner));
        var remoteFolder = Folder();
        hosts.Start(b, Repository.App("capengine"), Env(remoteFolder), "--cap-file", CopyInto(remoteFolder, owner.CapFile(CapabilityInterfaces.Engine)));
        var multiengine = owner.CapFile(CapabilityInterfaces.MultiEngine);
        var ids = await Client(hosts, a, owner, "ids", multiengine, "2");
        Assert.True(ids.ExitCode == 0, ids.ToString());

        // The client shares host A (and its network namespace) with the controller: it reaches the controller's local
        // socket. The engine on A does too; the engine on B cannot (an abstract socket belongs to its namespace).
        var roundtrip = await Client(hosts, a, owner, "roundtrip", multiengine, "8");
        Assert.True(roundtrip.ExitCode == 0, roundtrip.ToString());
        Assert.Equal(["roundtrip 0 equal", "roundtrip 1 equal"], Lines(roundtrip.Output, "roundtrip ").Order());
        var lanes = AuditLog.ReadAll(owner.Paths().AuditLogFile).Where(r => r.Method == "Lane" && r.Outcome == AuditRecord.Accepted).ToList();
        Assert.Equal(2, lanes.Count);
        Assert.Equal(["handed to the engine, path=local", "spliced, path=tls"], lanes.Select(r => r.Reason!.Split(", ", 2)[1]).Order());

        // So do the engines' links: the engine on A joined its stream lane on the local socket, the one on B on the data port, with TLS.
        var links = AuditLog.ReadAll(owner.Paths().AuditLogFile).Where(r => r.Method == "Stream" && r.Outcome == AuditRecord.Accepted && r.Service == CapClusterMethods.EngineLinkService).ToList();
        Assert.Contains(links, r => r.Reason!.StartsWith("stream lane for Connect, path=local", StringComparison.Ordinal) && !r.RemoteAddress!.Contains(b.Address, StringComparison.Ordinal));
        Assert.Contains(links, r => r.Reason!.StartsWith("stream lane for Connect, path=tls", StringComparison.Ordinal) && r.RemoteAddress!.Contains(b.Address, StringComparison.Ordinal));
    }

    [NetnsFact]
    public async Task Collaborator_Alice_OnAnotherHost()
    {
        var owner = Folder();
        var hosts = Hosts("a", "f");
        var (a, f) = (hosts["a"], hosts["f"]);
        await StartControllerAsync(hosts, a, owner);
        hosts.Start(a, Repository.App("capengine"), Env(owner));

        var attenuated = Path.Combine(owner.BaseFolder, "alice.cap");
        var attenuate = await owner.RunAsync("furlgen", "attenuate", owner.CapFile(CapabilityInterfaces.Task),
            "--label", "alice", "--expires", "1h", "--max-tasks", "100", "-o", attenuated);
        Assert.True(attenuate.ExitCode == 0, attenuate.ToString());
        var aliceFolder = Folder();
        var alice = CopyInto(aliceFolder, attenuated);
        var aliceId = CapabilityFile.Read(alice).CapabilityId;

        var tasks = await Client(hosts, f, aliceFolder, "tasks", alice, "3");
        Assert.True(tasks.ExitCode == 0, tasks.ToString());
        Assert.Equal(["0", "2", "4"], Lines(tasks.Output, "task ").Select(l => l.Split(' ')[3]));

        var multiengine = await Client(hosts, f, aliceFolder, "multiengine-check", alice);
        Assert.True(multiengine.ExitCode == 1, multiengine.ToString());
        Assert.StartsWith($"refused {StatusCode.PermissionDenied} ", multiengine.Output.Trim());
        Assert.Contains("task capability", multiengine.Output);

        var poll = hosts.Start(f, Dotnet, Env(aliceFolder), ClientDll, "poll-until-refused", alice);
        await poll.WaitForLineAsync("polling", Timeout);
        var revoke = await owner.RunAsync("furlgen", "revoke", attenuated);
        Assert.True(revoke.ExitCode == 0, revoke.ToString());
        var sinceRevoked = Stopwatch.StartNew();
        var refused = await poll.WaitForLineAsync("refused ", TimeSpan.FromSeconds(10));
        var elapsed = sinceRevoked.Elapsed;
        Assert.True(elapsed < TimeSpan.FromSeconds(2), $"refused only {elapsed} after furlgen revoke returned: {refused}");
        Assert.Contains($"capability {aliceId} was revoked", refused);

        var json = await owner.RunAsync("furlgen", "audit", "--label", "alice", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var records = json.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(AuditLog.ParseLine).ToList();
        bool FromF(AuditRecord r) => (r.RemoteAddress ?? "").Contains(f.Address, StringComparison.Ordinal);
        Assert.Contains(records, r => r.Outcome == AuditRecord.Accepted && r.Service == CapClusterMethods.TaskFarmService && FromF(r));
        Assert.Contains(records, r => r.Outcome == AuditRecord.Refused && r.Service == CapClusterMethods.MultiEngineService && FromF(r));
        Assert.Contains(records, r => r.Outcome == AuditRecord.Refused && FromF(r) && r.Reason!.Contains("was revoked", StringComparison.Ordinal));

        var table = await owner.RunAsync("furlgen", "audit", "--label", "alice");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains(table.Output.Split('\n'), l => l.Contains("accepted", StringComparison.Ordinal) && l.Contains(f.Address, StringComparison.Ordinal));
        Assert.Contains(table.Output.Split('\n'), l => l.Contains("refused", StringComparison.Ordinal) && l.Contains(f.Address, StringComparison.Ordinal));
    }

    private static string Dotnet { get; } = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string ClientDll { get; } = Path.Combine(AppContext.BaseDirectory, "CapCluster.Integration.Tests.Client.dll");

    private static Dictionary<string, string> Env(ClusterDirectory folder) => new() { ["CAPCLUSTER_DIR"] = folder.BaseFolder };

    private static List<string> Lines(string output, string prefix) =>
        [.. output.Split('\n', StringSplitOptions.TrimEntries).Where(l => l.StartsWith(prefix, StringComparison.Ordinal))];

    /// <summary>Copies a .cap file into another host's own security folder (the only thing hosts share).</summary>
    private static string CopyInto(ClusterDirectory folder, string capFile)
    {
        var security = folder.Paths().SecurityFolder;
        Directory.CreateDirectory(security);
        var copy = Path.Combine(security, Path.GetFileName(capFile));
        File.Copy(capFile, copy);
        return copy;
    }

    private static async Task StartControllerAsync(NetnsHosts hosts, NetnsHost host, ClusterDirectory folder)
    {
        var controller = hosts.Start(host, Repository.App("capcontroller"), Env(folder), "--ip", host.Address, "--location", host.Address);
        await controller.WaitForLineAsync("ready", Timeout);
    }

    private static Task<ProcessResult> Client(NetnsHosts hosts, NetnsHost host, ClusterDirectory folder, params string[] arguments) =>
        hosts.RunAsync(host, Dotnet, Env(folder), [ClientDll, .. arguments]);

    private ClusterDirectory Folder()
    {
        var folder = new ClusterDirectory();
        resources.Add(folder);
        return folder;
    }

    private NetnsHosts Hosts(params string[] names)
    {
        var hosts = NetnsHosts.Create(names);
        resources.Add(hosts);
        return hosts;
    }
}

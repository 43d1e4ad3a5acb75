using System.Security.Cryptography;
using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Protocol;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>
/// Data lanes that the controller splices (as it does for engines on other hosts), here forced with
/// --no-lane-handoff: the same values arrive, and the audit says how each lane was carried. Stream lanes then run
/// TLS on the data port too.
/// </summary>
public sealed class SplicedLaneTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private RunningCluster cluster = null!;

    public async Task InitializeAsync() => cluster = await RunningCluster.StartAsync(2, "--no-lane-handoff");

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task PushPullScatterGather_OnSplicedLanes_EqualOnReturn_AndAuditedAsSpliced()
    {
        var data = RandomNumberGenerator.GetBytes(24 * 1024 * 1024 + 3);
        var doubles = Enumerable.Range(0, 3_000_001).Select(i => i * 0.5).ToArray();

        await cluster.Client.PushAsync("bulk", data).GetAsync(Timeout);
        var pulled = await cluster.Client.PullAsync<byte[]>("bulk").GetAsync(Timeout);
        await cluster.Client.ScatterAsync("part", doubles).WaitAsync(Timeout);
        var gathered = await cluster.Client.GatherAsync<double[]>("part").WaitAsync(Timeout);

        Assert.All(pulled, p => Assert.Equal(data, p));
        Assert.Equal(doubles, gathered);
        var accepted = AuditLog.ReadAll(cluster.Directory.Paths().AuditLogFile).Where(r => r.Method == "Lane" && r.Outcome == AuditRecord.Accepted).ToList();
        Assert.Contains(accepted, r => r.Reason == "data lane to engine 0, spliced, path=tls");
        Assert.Contains(accepted, r => r.Reason == "data lane to engine 1, spliced, path=tls");
        Assert.DoesNotContain(accepted, r => r.Reason!.Contains("handed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EngineLinksAndTaskStreams_WithoutTheLocalSocket_RunTlsOnTheDataPort()
    {
        await using var tasks = await TaskClient.ConnectAsync(cluster.Directory.CapFile(CapabilityInterfaces.Task)).WaitAsync(Timeout);
        var results = await tasks.BarrierAsync(await tasks.RunAsync([.. Enumerable.Range(0, 20).Select(i => (TaskDefinition)DelegateTask.Of(() => i + 1))])).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(1, 20), results.Select(r => Convert.ToInt32(r.Value)));
        var streams = AuditLog.ReadAll(cluster.Directory.Paths().AuditLogFile).Where(r => r.Method == "Stream" && r.Outcome == AuditRecord.Accepted).ToList();
        Assert.Contains(streams, r => r.Service == CapClusterMethods.EngineLinkService && r.Reason!.StartsWith("stream lane for Connect, path=tls", StringComparison.Ordinal));
        Assert.Contains(streams, r => r.Service == CapClusterMethods.TaskFarmService && r.Reason == "stream lane for Tasks, path=tls");
        Assert.DoesNotContain(streams, r => r.Reason!.Contains("path=local", StringComparison.Ordinal));
    }
}

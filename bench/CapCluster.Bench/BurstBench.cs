using CapCluster.Client;

namespace CapCluster.Bench;

/// <summary>
/// What large bursts cost a cluster fresh from its start: three bursts of 20,000 no-op DelegateTasks, then three of
/// 100,000, each with the CPU every process spent on it. The first 100,000 are the first time the controller holds that
/// many tasks (their specs fit its 64 MiB budget, so none waits in the journal), and the client's code for them is still
/// being tiered up by the JIT (the controller is native); the next two show the same burst warm.
/// </summary>
internal static class BurstBench
{
    public static async Task RunAsync(string app, string[] clusterOptions)
    {
        await using var cluster = await Bench.StartAsync(app, 2, clusterOptions);
        var security = cluster.Security;
        await using var tc = await TaskClient.ConnectAsync(Path.Combine(security, "task.cap"));
        await using var mec = await MultiEngineClient.ConnectAsync(Path.Combine(security, "multiengine.cap"));
        var processes = TaskBench.Processes(CapCluster.Security.ControllerState.TryRead(security)!.Pid, await mec.GetEnginesAsync());
        foreach (var count in new[] { 20_000, 20_000, 20_000, 100_000, 100_000, 100_000 })
        {
            await TaskBench.ThroughputAsync(tc, processes, count, "DelegateTasks", () => DelegateTask.Of(() => 0));
        }
    }
}

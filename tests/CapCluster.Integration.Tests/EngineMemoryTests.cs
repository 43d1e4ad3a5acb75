using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Tests.Shared;
using Xunit.Abstractions;

namespace CapCluster.Integration.Tests;

/// <summary>
/// A real engine process, not the namespace in the test's own process: its RSS includes what the runtime and the C
/// heap keep of the submissions it compiled and unloaded.
/// </summary>
public sealed class EngineMemoryTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TenThousandExecutes_KeepAnEnginesRssUnderTwiceItsRssAfterTheFirst100()
    {
        await using var cluster = await RunningCluster.StartAsync(1);
        var pid = (await cluster.Client.GetEnginesAsync().WaitAsync(Timeout)).Single().Pid;
        await cluster.Client.ExecuteAsync(ExecuteWorkload.Start).GetAsync(Timeout);
        long after100 = 0;
        for (var i = 1; i <= 10_000; i++)
        {
            var code = ExecuteWorkload.Code(i);
            await cluster.Client.ExecuteAsync(code).GetAsync(Timeout);
            if (i == 100)
            {
                after100 = await SettledRssAsync(cluster, pid);
            }
        }

        var after10000 = await SettledRssAsync(cluster, pid);
        output.WriteLine($"engine RSS after 100 executes: {after100 >> 10} MiB, after 10,000: {after10000 >> 10} MiB");
        Assert.Equal(2_500, Convert.ToInt32((await cluster.Client.ExecuteAsync("x").GetAsync(Timeout)).Single().Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(after10000 < 2 * after100, $"the engine's RSS grew from {after100} KiB after 100 executes to {after10000} KiB after 10,000");
    }

    /// <summary>The engine's RSS in KiB after full collections there (and a moment for the C heap's trim on a pool thread).</summary>
    private static async Task<long> SettledRssAsync(RunningCluster cluster, int pid)
    {
        await cluster.Client.ExecuteAsync("for (var i = 0; i < 3; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }").GetAsync(Timeout);
        await Task.Delay(200);
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}

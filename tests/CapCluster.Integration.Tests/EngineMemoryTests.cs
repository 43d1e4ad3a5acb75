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

    [Fact]
    public async Task AfterLargeTransfers_TheirValuesDeleted_AnIdleEngineGivesItsMemoryBack()
    {
        await using var cluster = await RunningCluster.StartAsync(1);
        var pid = (await cluster.Client.GetEnginesAsync().WaitAsync(Timeout)).Single().Pid;
        await cluster.Client.ExecuteAsync("var warm = 1;").GetAsync(Timeout);
        var before = await SettledRssAsync(cluster, pid);
        var data = new byte[128 << 20];
        Random.Shared.NextBytes(data);
        for (var i = 0; i < 3; i++)
        {
            await cluster.Client.PushAsync("blob", data).GetAsync(Timeout);
            Assert.Equal(data.Length, (await cluster.Client.PullAsync<byte[]>("blob").GetAsync(Timeout)).Single().Length);
        }

        var loaded = Rss(pid);
        await cluster.Client.ExecuteAsync("blob = null; GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();").GetAsync(Timeout);

        // Measured without the give-back: 541 MiB stayed, 401 MiB of it committed for a 13 MiB heap. Idle, the engine
        // gives it back: its RSS comes within 1.5 times what it was before the transfers.
        var bound = before * 3 / 2;
        var settled = Rss(pid);
        using var deadline = new CancellationTokenSource(Timeout);
        while (settled > bound && !deadline.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
            settled = Rss(pid);
        }

        output.WriteLine($"engine RSS before the transfers: {before >> 10} MiB, loaded: {loaded >> 10} MiB, idle after: {settled >> 10} MiB");
        Assert.True(settled <= bound, $"the engine kept {settled >> 10} MiB after its values were deleted (before the transfers: {before >> 10} MiB; loaded: {loaded >> 10} MiB)");
    }

    private static long Rss(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The engine's RSS in KiB after full collections there (and a moment for the C heap's trim on a pool thread).</summary>
    private static async Task<long> SettledRssAsync(RunningCluster cluster, int pid)
    {
        await cluster.Client.ExecuteAsync("for (var i = 0; i < 3; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }").GetAsync(Timeout);
        await Task.Delay(200);
        return Rss(pid);
    }
}

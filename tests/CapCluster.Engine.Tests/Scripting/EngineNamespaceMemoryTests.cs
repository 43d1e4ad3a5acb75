using System.Diagnostics;
using CapCluster.Engine.Internal.Scripting;
using CapCluster.Tests.Shared;
using Xunit.Abstractions;

namespace CapCluster.Engine.Tests.Scripting;

/// <summary>
/// Each submission is an assembly; without collectible chains and rebasing, memory grows with
/// every execute for the life of the engine. Latency is reported here, not asserted.
/// </summary>
[Collection(ScriptingCollection.Name)]
public sealed class EngineNamespaceMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TenThousandExecutes_KeepMemoryUnderTwiceTheEarlyLevel()
    {
        using var ns = new EngineNamespace();
        await ns.Eval(ExecuteWorkload.Start);
        long after100 = 0, after5000 = 0;
        for (var i = 1; i <= 10_000; i++)
        {
            var code = ExecuteWorkload.Code(i);
            var outcome = await ns.Run(code);
            Assert.True(outcome.Succeeded, $"{code}: {outcome.Error}");
            if (i == 100)
                after100 = SettledWorkingSet();
            if (i == 5_000)
                after5000 = SettledWorkingSet();
        }
        var after10000 = SettledWorkingSet();
        output.WriteLine($"RSS after 100: {after100 / 1e6:F1} MB, after 5,000: {after5000 / 1e6:F1} MB, after 10,000: {after10000 / 1e6:F1} MB; " +
            $"{ns.SubmissionCount} submissions compiled, generation {ns.Generation}");
        Assert.True(ns.TryGet("x", out var x));
        Assert.Equal(2_500, x);
        Assert.True(after10000 < 2 * after100, $"RSS grew from {after100} to {after10000} bytes");
    }

    [Fact]
    public async Task Latency_IsReported()
    {
        using var ns = new EngineNamespace();
        await ns.WarmUpAsync(CancellationToken.None).WaitAsync(NamespaceTestExtensions.Timeout);
        await ns.Eval("var x = 1;");
        for (var i = 0; i < 200; i++)
            await ns.Run("x + 1");
        var repeated = await Median(1000, _ => "x + 1");
        var compiled = ns.SubmissionCount;
        var fresh = await Median(400, i => $"x + {i}");
        output.WriteLine($"median execute, repeated text: {repeated * 1000:F1} µs; new text: {fresh * 1000:F1} µs " +
            $"({ns.SubmissionCount - compiled} compiled for 400 new texts)");
        var push = Stopwatch.StartNew();
        for (var i = 0; i < 1000; i++)
            ns.Set("pushed", i);
        output.WriteLine($"Set same name and type: {push.Elapsed.TotalMicroseconds / 1000:F1} µs each");

        async Task<double> Median(int count, Func<int, string> code)
        {
            var times = new double[count];
            for (var i = 0; i < count; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var outcome = await ns.Run(code(i));
                times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Assert.True(outcome.Succeeded);
            }
            Array.Sort(times);
            return times[count / 2];
        }
    }

    private static long SettledWorkingSet()
    {
        for (var i = 0; i < 4; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        GC.Collect();
        return Environment.WorkingSet;
    }
}

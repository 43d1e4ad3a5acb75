using System.Diagnostics;
using CapCluster.Client;

namespace CapCluster.Bench;

/// <summary>
/// What compiling new code costs an engine over its life: executes of code never seen before (as a notebook's cells
/// are), in blocks, each block's median and the CPU the engines spent on it, then what they spend idle right after
/// (a runtime that re-compiles hot code in the background does it then). It is the figure that decides how the
/// engine's code is compiled (see Engine/CapCluster.Engine.csproj).
/// </summary>
internal static class CompileBench
{
    private const int Blocks = 6;
    private const int PerBlock = 200;

    public static async Task RunAsync(string app)
    {
        await using var cluster = await Bench.StartAsync(app, 2);
        await using var mec = await MultiEngineClient.ConnectAsync(Path.Combine(cluster.Security, "multiengine.cap"));
        var engines = (await mec.GetEnginesAsync()).Select(e => e.Pid).ToArray();
        double EngineCpuMs() => engines.Sum(Bench.CpuMs);

        await mec.ExecuteAsync("var x = 1;");
        var n = 0;
        for (var block = 1; block <= Blocks; block++)
        {
            var cpu = EngineCpuMs();
            var times = new List<double>(PerBlock);
            for (var i = 0; i < PerBlock; i++, n++)
            {
                var t = Stopwatch.GetTimestamp();
                await mec.ExecuteAsync($"var y{n % 50} = x + {n}; y{n % 50} * 2");
                times.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            }

            var spent = EngineCpuMs() - cpu;
            Console.WriteLine($"New code, executes {n - PerBlock + 1:N0}-{n:N0} on 2 engines: {Bench.Percentiles(times)}; the engines' CPU {spent / PerBlock:0.0} ms an execute");
        }

        var before = EngineCpuMs();
        await Task.Delay(TimeSpan.FromSeconds(5));
        Console.WriteLine($"The engines' CPU in the 5 s idle after them: {EngineCpuMs() - before:0} ms");
    }
}

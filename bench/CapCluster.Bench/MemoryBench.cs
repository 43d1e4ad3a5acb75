using System.Diagnostics;
using CapCluster.Client;

namespace CapCluster.Bench;

/// <summary>
/// <c>bench/run memory</c>: the controller's RSS with 1,000,000 no-op tasks queued (no engine yet), then once two
/// engines ran them all and the results were cleared (issue 17's goal: under 300 MB queued, back near idle after).
/// </summary>
internal static class MemoryBench
{
    private const int Count = 1_000_000;

    public static async Task RunAsync(string app, string[] clusterOptions)
    {
        await using var cluster = await Bench.StartAsync(app, 0, clusterOptions);
        var state = CapCluster.Security.ControllerState.TryRead(cluster.Security)!;
        await using var tc = await TaskClient.ConnectAsync(Path.Combine(cluster.Security, "task.cap"));
        await Task.Delay(1000);
        var idle = Bench.RssMiB(state.Pid);
        Console.WriteLine(clusterOptions.Contains("--no-journal") ? "Task journal: off (--no-journal)" : "Task journal: on");
        Console.WriteLine($"Controller RSS idle: {idle:0} MiB");

        var clock = Stopwatch.StartNew();
        var ids = new List<long>(Count);
        foreach (var part in Enumerable.Range(0, Count).Chunk(100_000))
        {
            ids.AddRange(await tc.RunAsync([.. part.Select(_ => (TaskDefinition)DelegateTask.Of(() => 0))]));
        }

        Console.WriteLine($"{Count:N0} no-op DelegateTasks queued in {clock.Elapsed.TotalSeconds:0.0} s; controller RSS {Bench.RssMiB(state.Pid):0} MiB");
        await Task.Delay(3000);
        Console.WriteLine($"  3 s later: controller RSS {Bench.RssMiB(state.Pid):0} MiB");

        var engines = Enumerable.Range(0, 2).Select(_ =>
        {
            var start = new ProcessStartInfo(Path.Combine(app, "capengine")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.Environment["CAPCLUSTER_DIR"] = cluster.Folder;
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }).ToList();
        try
        {
            clock.Restart();
            foreach (var part in ids.Chunk(100_000))
            {
                await tc.BarrierAsync(part);
            }

            Console.WriteLine($"All ran on 2 engines in {clock.Elapsed.TotalSeconds:0.0} s; controller RSS {Bench.RssMiB(state.Pid):0} MiB");
            await tc.ClearAsync();
            await Task.Delay(5000);
            Console.WriteLine($"Cleared, 5 s later: controller RSS {Bench.RssMiB(state.Pid):0} MiB (idle was {idle:0} MiB)");
        }
        finally
        {
            engines.ForEach(e => e.Kill());
        }
    }
}

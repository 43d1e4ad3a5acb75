using System.Diagnostics;
using CapCluster.Client;

namespace CapCluster.Bench;

/// <summary>Issue 2's figures: GetIds over mTLS, calls/s with 16 callers, `capcluster start -n 2` and `-n 8`.</summary>
internal static class CoreBench
{
    public static async Task RunAsync(string app)
    {
        var capcluster = Path.Combine(app, "capcluster");
        foreach (var n in new[] { 2, 8 })
        {
            var times = await StartTimesAsync(app, n, runs: 3, runOnEachEngine: false);
            Console.WriteLine($"capcluster start -n {n}: median {times[times.Count / 2]:0.00} s (runs: {string.Join(", ", times.Select(t => t.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))})");
        }

        var dir = Directory.CreateTempSubdirectory("capcluster-bench-").FullName;
        try
        {
            var (exit, output) = await Bench.RunAsync(capcluster, dir, "start", "-n", "2");
            if (exit != 0)
            {
                throw new InvalidOperationException(output);
            }

            await using var client = await MultiEngineClient.ConnectAsync(Path.Combine(dir, "security", "multiengine.cap"));
            for (var i = 0; i < 2000; i++)
            {
                await client.GetIdsAsync();
            }

            var latencies = new List<double>();
            for (var i = 0; i < 10000; i++)
            {
                var t = Stopwatch.GetTimestamp();
                await client.GetIdsAsync();
                latencies.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            }

            Console.WriteLine($"GetIds round trip over mTLS: {Bench.Percentiles(latencies)}");

            var pings = new List<double>();
            for (var i = 0; i < 5000; i++)
            {
                var t = Stopwatch.GetTimestamp();
                await client.PingAsync();
                pings.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            }

            Console.WriteLine($"Ping through both engines' queues: {Bench.Percentiles(pings)}");

            const int callers = 16;
            var duration = TimeSpan.FromSeconds(5);
            long calls = 0;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
            {
                while (clock.Elapsed < duration)
                {
                    await client.GetIdsAsync();
                    Interlocked.Increment(ref calls);
                }
            }));
            Console.WriteLine($"GetIds with {callers} concurrent callers: {calls / clock.Elapsed.TotalSeconds:0} calls/s");
        }
        finally
        {
            await Bench.RunAsync(capcluster, dir, "stop");
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Seconds from `capcluster start -n <paramref name="n"/>` to its return, or with <paramref name="runOnEachEngine"/>
    /// to a first no-op function answered by every engine (as dask's figure is taken: until each worker ran a task), in order.
    /// </summary>
    public static async Task<List<double>> StartTimesAsync(string app, int n, int runs, bool runOnEachEngine)
    {
        var capcluster = Path.Combine(app, "capcluster");
        var times = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var folder = Directory.CreateTempSubdirectory("capcluster-bench-").FullName;
            try
            {
                // A first start creates the CA and the capabilities: measure the steady case, as a user restarting would see it.
                await Bench.RunAsync(capcluster, folder, "start", "-n", "0");
                await Bench.RunAsync(capcluster, folder, "stop");
                var clock = Stopwatch.StartNew();
                var (exit, output) = await Bench.RunAsync(capcluster, folder, "start", "-n", n.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (exit != 0)
                {
                    throw new InvalidOperationException(output);
                }

                if (runOnEachEngine)
                {
                    await using var mec = await MultiEngineClient.ConnectAsync(Path.Combine(folder, "security", "multiengine.cap"));
                    var answers = await mec.ApplyAsync(() => 0);
                    if (answers.Count != n)
                    {
                        throw new InvalidOperationException($"{answers.Count} of {n} engines answered");
                    }
                }

                clock.Stop();
                times.Add(clock.Elapsed.TotalSeconds);
            }
            finally
            {
                await Bench.RunAsync(capcluster, folder, "stop");
                Directory.Delete(folder, recursive: true);
            }
        }

        times.Sort();
        return times;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CapCluster.Client;

namespace CapCluster.Bench;

/// <summary>
/// Issue 18's side-by-side table: the same workloads on CapCluster and, in the same sitting, on dask.distributed and
/// ipyparallel (bench/compare/peers.py, with Debian's python3-distributed and python3-ipyparallel), with the ratio.
/// </summary>
internal static class CompareBench
{
    /// <summary>A row of the table: its key in peers.py's figures, its title, its unit, and whether more is better.</summary>
    private sealed record Row(string Key, string Title, string Unit, bool MoreIsBetter);

    private static readonly Row[] Rows =
    [
        new("start_2_s", "start-up, 2 engines (until each ran a task)", "s", false),
        new("start_8_s", "start-up, 8 engines (until each ran a task)", "s", false),
        new("roundtrip_median_us", "no-op task round trip, median", "µs", false),
        new("roundtrip_p99_us", "no-op task round trip, p99", "µs", false),
        new("tasks_20000_per_s", "20,000 no-op tasks at once", "tasks/s", true),
        new("tasks_100000_per_s", "100,000 no-op tasks at once", "tasks/s", true),
        new("push_mbps", "push 128 MiB to one engine (warm)", "MB/s", true),
        new("pull_mbps", "pull 128 MiB from one engine (warm)", "MB/s", true),
        new("scatter_s", "scatter 10M doubles over 2 engines", "s", false),
        new("gather_s", "gather 10M doubles from 2 engines", "s", false),
        new("rss_idle_mib", "engines' RSS, idle (sum of 2)", "MiB", false),
        new("rss_loaded_mib", "engines' RSS after the transfers", "MiB", false),
    ];

    public static async Task RunAsync(string app, string root, bool quick)
    {
        Console.WriteLine($"Side-by-side comparison on {Environment.MachineName}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(quick ? " (--quick: fewer rounds, no 100,000-task run)" : string.Empty)}");
        Console.WriteLine("CapCluster...");
        var ours = await CapClusterFiguresAsync(app, quick);
        Console.WriteLine("dask.distributed and ipyparallel (bench/compare/peers.py)...");
        var peers = await PeerFiguresAsync(root, quick);
        Console.WriteLine();
        PrintTable(ours, peers);
    }

    private static async Task<Dictionary<string, double>> CapClusterFiguresAsync(string app, bool quick)
    {
        var figures = new Dictionary<string, double>();
        foreach (var n in new[] { 2, 8 })
        {
            var times = await CoreBench.StartTimesAsync(app, n, runs: quick ? 1 : 5, runOnEachEngine: true);
            figures[$"start_{n}_s"] = times[times.Count / 2];
            Console.WriteLine($"  start-up with {n} engines: {figures[$"start_{n}_s"]:0.00} s");
        }

        await using var cluster = await Bench.StartAsync(app, 2);
        await using var tc = await TaskClient.ConnectAsync(Path.Combine(cluster.Security, "task.cap"));
        await using var mec = await MultiEngineClient.ConnectAsync(Path.Combine(cluster.Security, "multiengine.cap"));
        var engines = await mec.GetEnginesAsync();
        double EnginesRss() => engines.Sum(e => Bench.RssMiB(e.Pid));

        // Read once it stopped changing (within 1 MiB over half a second; at most 30 s): an engine warms its compiler
        // after it registers, and grew from about 85 to 130 MiB in the seconds after start (2026-12-06).
        var idle = EnginesRss();
        for (var i = 0; i < 60; i++)
        {
            await Task.Delay(500);
            var now = EnginesRss();
            var settled = Math.Abs(now - idle) < 1;
            idle = now;
            if (settled)
            {
                break;
            }
        }

        figures["rss_idle_mib"] = idle;

        for (var i = 0; i < (quick ? 1_000 : 10_000); i++)
        {
            await TaskBench.RoundTripAsync(tc);
        }

        var trips = new List<double>();
        for (var i = 0; i < (quick ? 1_000 : 5_000); i++)
        {
            var t = Stopwatch.GetTimestamp();
            await TaskBench.RoundTripAsync(tc);
            trips.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
        }

        trips.Sort();
        figures["roundtrip_median_us"] = Bench.Percentile(trips, 0.5);
        figures["roundtrip_p99_us"] = Bench.Percentile(trips, 0.99);
        await tc.ClearAsync();
        foreach (var count in quick ? new[] { 20_000 } : [20_000, 100_000])
        {
            var clock = Stopwatch.StartNew();
            var ids = await tc.RunAsync([.. Enumerable.Range(0, count).Select(_ => (TaskDefinition)DelegateTask.Of(() => 0))]);
            await tc.BarrierAsync(ids);
            figures[$"tasks_{count}_per_s"] = count / clock.Elapsed.TotalSeconds;
            await tc.ClearAsync();
        }

        Console.WriteLine($"  tasks: round trip {figures["roundtrip_median_us"]:0} µs, 20,000 at {figures["tasks_20000_per_s"]:N0}/s");
        (figures["push_mbps"], figures["pull_mbps"]) = await MultiEngineBench.TransferAsync(mec, cluster.Security);
        (figures["scatter_s"], figures["gather_s"]) = await MultiEngineBench.ScatterGatherAsync(mec, cluster.Security);
        figures["rss_loaded_mib"] = EnginesRss();
        return figures;
    }

    /// <summary>Runs peers.py and reads its JSON; a system that is missing or failed comes back with its error.</summary>
    private static async Task<Dictionary<string, (Dictionary<string, double> Figures, string? Error)>> PeerFiguresAsync(string root, bool quick)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", [Path.Combine(root, "bench", "compare", "peers.py"), .. quick ? new[] { "--quick" } : []])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start /usr/bin/python3");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var result = new Dictionary<string, (Dictionary<string, double>, string?)>();
        if (process.ExitCode != 0 || string.IsNullOrWhiteSpace(output))
        {
            var error = $"peers.py exited with {process.ExitCode} (see its output above)";
            result["dask"] = ([], error);
            result["ipyparallel"] = ([], error);
            return result;
        }

        using var json = JsonDocument.Parse(output);
        foreach (var system in json.RootElement.EnumerateObject())
        {
            var figures = new Dictionary<string, double>();
            string? error = null;
            foreach (var figure in system.Value.EnumerateObject())
            {
                if (figure.Name == "error")
                {
                    error = figure.Value.GetString();
                }
                else
                {
                    figures[figure.Name] = figure.Value.GetDouble();
                }
            }

            result[system.Name] = (figures, error);
        }

        return result;
    }

    private static void PrintTable(Dictionary<string, double> ours, Dictionary<string, (Dictionary<string, double> Figures, string? Error)> peers)
    {
        var systems = peers.Keys.Order().ToList();
        var header = $"{"workload",-46} {"CapCluster",14}";
        foreach (var system in systems)
        {
            header += $" {system,14} {"ratio",8}";
        }

        Console.WriteLine(header);
        Console.WriteLine(new string('-', header.Length));
        foreach (var row in Rows)
        {
            var line = $"{row.Title,-46} {Show(ours, row),14}";
            foreach (var system in systems)
            {
                var theirs = peers[system].Figures;
                line += $" {Show(theirs, row),14} {Ratio(ours, theirs, row),8}";
            }

            Console.WriteLine(line);
        }

        Console.WriteLine();
        Console.WriteLine("ratio: how many times better CapCluster's figure is (above 1: CapCluster ahead; for times and memory, theirs / ours; for rates, ours / theirs).");
        foreach (var system in systems.Where(s => peers[s].Error is not null))
        {
            Console.WriteLine($"{system}: {peers[system].Error}");
        }
    }

    private static string Show(Dictionary<string, double> figures, Row row) =>
        figures.TryGetValue(row.Key, out var value) ? $"{Format(value)} {row.Unit}" : "-";

    private static string Format(double value) => value switch
    {
        >= 1000 => value.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0", CultureInfo.InvariantCulture),
        >= 1 => value.ToString("0.00", CultureInfo.InvariantCulture),
        _ => value.ToString("0.000", CultureInfo.InvariantCulture),
    };

    private static string Ratio(Dictionary<string, double> ours, Dictionary<string, double> theirs, Row row)
    {
        if (!ours.TryGetValue(row.Key, out var a) || !theirs.TryGetValue(row.Key, out var b) || a <= 0 || b <= 0)
        {
            return "-";
        }

        var ratio = row.MoreIsBetter ? a / b : b / a;
        return "×" + ratio.ToString(ratio >= 10 ? "0" : "0.00", CultureInfo.InvariantCulture);
    }
}

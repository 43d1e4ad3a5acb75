using System.Diagnostics;
using CapCluster.Bench;

// Usage: bench/run [core] [multiengine] [transfer] [scatter] [compile] [tasks] [burst] [journal] [floor] [audit] [compare [--quick]] [chaos [--minutes N] [--controller]] [memory] [fair] [--no-journal] [--app PATH]
// (default: core, multiengine, tasks); or bench/run startup [-n N] [--runs R] [--variant LABEL[:NAME=VALUE,...][@APP]]...
// (floor-relay and floor-worker are the floor suite's own child processes, see FloorHops.)
if (args.FirstOrDefault() is FloorHops.Relay or FloorHops.Worker)
{
    return FloorHops.Run(args);
}

var root = Bench.FindRoot();
// --app PATH: another build's binaries (its artifacts/app), to compare two builds in one sitting.
var appAt = Array.IndexOf(args, "--app");
var app = appAt >= 0 && appAt + 1 < args.Length ? Path.GetFullPath(args[appAt + 1]) : Path.Combine(root, "artifacts", "app");
args = appAt >= 0 ? [.. args[..appAt], .. args[Math.Min(args.Length, appAt + 2)..]] : args;
if (args.FirstOrDefault() == "startup")
{
    await StartupBench.RunAsync(app, args[1..]);
    return 0;
}

var quick = args.Contains("--quick");
string[] clusterOptions = args.Contains("--no-journal") ? ["--no-journal"] : [];
var minutesAt = Array.IndexOf(args, "--minutes");
var minutes = minutesAt >= 0 && minutesAt + 1 < args.Length ? double.Parse(args[minutesAt + 1], System.Globalization.CultureInfo.InvariantCulture) : 2;
var suites = args.Where((a, i) => a is not ("--quick" or "--no-journal" or "--controller" or "--minutes") && !(minutesAt >= 0 && i == minutesAt + 1)).ToArray() is { Length: > 0 } named
    ? named
    : ["core", "multiengine", "tasks"];
foreach (var suite in suites)
{
    switch (suite)
    {
        case "core":
            await CoreBench.RunAsync(app);
            break;
        case "multiengine":
            await MultiEngineBench.RunAsync(app);
            break;
        case "transfer":
            await MultiEngineBench.RunTransferAsync(app);
            break;
        case "scatter":
            await MultiEngineBench.RunScatterGatherAsync(app);
            break;
        case "compile":
            await CompileBench.RunAsync(app);
            break;
        case "tasks":
            await TaskBench.RunAsync(app, clusterOptions);
            break;
        case "burst":
            await BurstBench.RunAsync(app, clusterOptions);
            break;
        case "compare":
            await CompareBench.RunAsync(app, root, quick);
            break;
        case "journal":
            JournalBench.Run();
            break;
        case "floor":
            FloorBench.Run();
            break;
        case "audit":
            await AuditBench.RunAsync(app);
            break;
        case "restore":
            RestoreBench.Run();
            break;
        case "fair":
            await FairBench.RunAsync(app);
            break;
        case "memory":
            await MemoryBench.RunAsync(app, clusterOptions);
            break;
        case "chaos":
            if (await ChaosBench.RunAsync(app, TimeSpan.FromMinutes(minutes), args.Contains("--controller")) != 0)
            {
                return 1;
            }

            break;
        default:
            Console.Error.WriteLine($"unknown suite {suite}; known: core, multiengine, transfer, scatter, compile, tasks, burst, journal, floor, audit, restore, compare [--quick], startup [-n N] [--runs R] [--variant ...], chaos [--minutes N] [--controller], memory, fair; --no-journal starts the controller without its task journal; --app PATH runs another build's binaries");
            return 2;
    }
}

return 0;

namespace CapCluster.Bench
{
    internal sealed class BenchCluster(string app, string folder) : IAsyncDisposable
    {
        public string Folder { get; } = folder;

        public string Security => Path.Combine(Folder, "security");

        public async ValueTask DisposeAsync()
        {
            await Bench.RunAsync(Path.Combine(app, "capcluster"), Folder, "stop");
            // BENCH_KEEP=1 keeps the cluster's folder (logs, journal, audit) for a look after a run that went wrong.
            if (Environment.GetEnvironmentVariable("BENCH_KEEP") is null)
            {
                Directory.Delete(Folder, recursive: true);
            }
            else
            {
                Console.WriteLine($"kept the cluster's folder (BENCH_KEEP): {Folder}");
            }
        }
    }

    internal static class Bench
    {
        public static string FindRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "CapCluster.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("run from inside the repository");
        }

        public static async Task<(int Exit, string Output)> RunAsync(string exe, string baseFolder, params string[] args)
        {
            var start = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.Environment["CAPCLUSTER_DIR"] = baseFolder;
            using var p = Process.Start(start)!;
            var output = p.StandardOutput.ReadToEndAsync();
            var error = p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            return (p.ExitCode, await output + await error);
        }

        /// <summary>Starts a cluster of <paramref name="engines"/> under a throwaway folder; dispose stops it and deletes the folder.</summary>
        public static async Task<BenchCluster> StartAsync(string app, int engines, params string[] more)
        {
            var folder = Directory.CreateTempSubdirectory("capcluster-bench-").FullName;
            var (exit, output) = await RunAsync(Path.Combine(app, "capcluster"), folder, ["start", "-n", engines.ToString(System.Globalization.CultureInfo.InvariantCulture), .. more]);
            var cluster = new BenchCluster(app, folder);
            if (exit != 0)
            {
                await cluster.DisposeAsync();
                throw new InvalidOperationException(output);
            }

            return cluster;
        }

        public static double RssMiB(int pid)
        {
            var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;
        }

        /// <summary>CPU time (user and system) process <paramref name="pid"/> has used, in milliseconds.</summary>
        public static double CpuMs(int pid)
        {
            // Fields 14 and 15 of /proc/PID/stat, after the command name in parentheses (which may hold spaces).
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            return ticks * 1000.0 / 100;
        }

        /// <summary>
        /// The times the threads of process <paramref name="pid"/> now running gave up a core (waiting) or were made to
        /// (preempted), summed from /proc/PID/task/*/status: each is a thread asleep and woken again.
        /// </summary>
        public static long ContextSwitches(int pid)
        {
            long switches = 0;
            foreach (var thread in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    foreach (var line in File.ReadLines(Path.Combine(thread, "status")))
                    {
                        if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        {
                            switches += long.Parse(line[(line.IndexOf(':') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                        }
                    }
                }
                catch (IOException)
                {
                    // The thread ended while it was read.
                }
            }

            return switches;
        }

        public static string Percentiles(List<double> microseconds)
        {
            microseconds.Sort();
            return $"median {Percentile(microseconds, 0.5):0} µs, p99 {Percentile(microseconds, 0.99):0} µs (n={microseconds.Count})";
        }

        /// <summary>The value at quantile <paramref name="q"/> of <paramref name="sorted"/>, a list in ascending order.</summary>
        public static double Percentile(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CapCluster.Client;

namespace CapCluster.Bench;

/// <summary>
/// Where <c>capcluster start -n N</c> spends its time, and what a change to it is worth: the start is repeated, each
/// variant (an environment for the launched processes, or another build of the binaries) in turn, so that variants are
/// measured side by side on a machine whose speed drifts; the figure is each variant's median. Each start is timed to
/// "every engine registered" (the launcher returns) and to "each engine ran a no-op function"; the component logs'
/// timestamps split the first figure into the controller's start and the engines'.
/// </summary>
internal static class StartupBench
{
    /// <summary>A way of running the cluster: extra environment for the launcher and what it starts, and the binaries' folder.</summary>
    private sealed record Variant(string Label, IReadOnlyDictionary<string, string> Environment, string App);

    /// <summary>One start, in seconds from the launcher's start: its milestones (NaN when a log did not say).</summary>
    private sealed record Sample(double ControllerUp, double ControllerReady, double EnginesUp, double Registered, double Returned, double Ran);

    /// <summary>
    /// Arguments after <c>startup</c>: <c>-n N</c> (engines, default 2), <c>--runs R</c> (starts per variant, default 5),
    /// and any number of <c>--variant LABEL[:NAME=VALUE,...][@APP]</c> (default one variant, the binaries as built).
    /// </summary>
    public static async Task RunAsync(string app, IReadOnlyList<string> args)
    {
        var engines = 2;
        var runs = 5;
        var variants = new List<Variant>();
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "-n":
                    engines = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--runs":
                    runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--variant":
                    variants.Add(ParseVariant(args[++i], app));
                    break;
            }
        }

        if (variants.Count == 0)
        {
            variants.Add(new Variant("as built", new Dictionary<string, string>(), app));
        }

        Console.WriteLine($"capcluster start -n {engines}, {runs} starts per variant, variants in turn; {Environment.ProcessorCount} cores, load {LoadAverage()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        // Unmeasured: brings the binaries into the page cache and JIT-compiles this process's client code.
        await StartOnceAsync(variants[0], engines);
        var samples = variants.ToDictionary(v => v, _ => new List<Sample>());
        for (var run = 0; run < runs; run++)
        {
            foreach (var variant in variants)
            {
                var sample = await StartOnceAsync(variant, engines);
                samples[variant].Add(sample);
                Console.WriteLine($"  {variant.Label,-24} {Describe(sample)}   load {LoadAverage()}");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"medians of {runs} (seconds from the launcher's start):");
        foreach (var variant in variants)
        {
            var s = samples[variant];
            Console.WriteLine($"  {variant.Label,-24} {Describe(new Sample(
                Median(s, x => x.ControllerUp), Median(s, x => x.ControllerReady), Median(s, x => x.EnginesUp),
                Median(s, x => x.Registered), Median(s, x => x.Returned), Median(s, x => x.Ran)))}");
        }
    }

    private static string Describe(Sample s) =>
        $"controller up {S(s.ControllerUp)} ready {S(s.ControllerReady)} | engines up {S(s.EnginesUp)} registered {S(s.Registered)} | start returned {S(s.Returned)} | each ran a no-op {S(s.Ran)}";

    private static string S(double seconds) => double.IsNaN(seconds) ? "  ?  " : seconds.ToString("0.000", CultureInfo.InvariantCulture);

    private static double Median(List<Sample> samples, Func<Sample, double> figure)
    {
        var sorted = samples.Select(figure).Where(x => !double.IsNaN(x)).Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }

    private static Variant ParseVariant(string spec, string app)
    {
        var at = spec.IndexOf('@', StringComparison.Ordinal);
        var folder = at >= 0 ? Path.GetFullPath(spec[(at + 1)..]) : app;
        var head = at >= 0 ? spec[..at] : spec;
        var colon = head.IndexOf(':', StringComparison.Ordinal);
        var label = colon >= 0 ? head[..colon] : head;
        var environment = new Dictionary<string, string>();
        if (colon >= 0)
        {
            foreach (var pair in head[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                environment[pair[..equals]] = pair[(equals + 1)..];
            }
        }

        return new Variant(label, environment, folder);
    }

    /// <summary>Starts a cluster on a fresh folder whose CA and capabilities exist already (as a user restarting sees it), then stops it.</summary>
    private static async Task<Sample> StartOnceAsync(Variant variant, int engines)
    {
        var capcluster = Path.Combine(variant.App, "capcluster");
        var folder = Directory.CreateTempSubdirectory("capcluster-startup-").FullName;
        try
        {
            await RunAsync(capcluster, folder, variant, "start", "-n", "0");
            await StopAsync(capcluster, folder, variant);
            foreach (var log in Directory.GetFiles(Path.Combine(folder, "log"), "*.log"))
            {
                File.Delete(log);
            }

            var began = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            await RunAsync(capcluster, folder, variant, "start", "-n", engines.ToString(CultureInfo.InvariantCulture));
            var returned = clock.Elapsed.TotalSeconds;
            await using (var client = await MultiEngineClient.ConnectAsync(Path.Combine(folder, "security", "multiengine.cap")))
            {
                var answers = await client.ApplyAsync(() => 0);
                if (answers.Count != engines)
                {
                    throw new InvalidOperationException($"{answers.Count} of {engines} engines answered");
                }
            }

            var ran = clock.Elapsed.TotalSeconds;
            await StopAsync(capcluster, folder, variant);
            return FromLogs(Path.Combine(folder, "log"), began, returned, ran);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The milestones the component logs (compact JSON) give: a process's first line (its runtime and Main are up), the
    /// controller's "listening" line, the last engine's "registered" line. A log file is one process.
    /// </summary>
    private static Sample FromLogs(string logFolder, DateTimeOffset began, double returned, double ran)
    {
        double Since(DateTimeOffset t) => (t - began).TotalSeconds;
        var controllerUp = double.NaN;
        var controllerReady = double.NaN;
        var enginesUp = double.NaN;
        var registered = double.NaN;
        foreach (var file in Directory.GetFiles(logFolder, "*.log"))
        {
            var events = File.ReadLines(file).Select(Parse).Where(e => e is not null).Select(e => e!.Value).ToList();
            if (events.Count == 0)
            {
                continue;
            }

            var name = Path.GetFileName(file);
            if (name.StartsWith("capcontroller", StringComparison.Ordinal))
            {
                controllerUp = Since(events[0].Time);
                controllerReady = events.Where(e => e.Template.StartsWith("Listening", StringComparison.Ordinal)).Select(e => Since(e.Time)).DefaultIfEmpty(double.NaN).First();
            }
            else if (name.StartsWith("capengine", StringComparison.Ordinal))
            {
                enginesUp = MaxOf(enginesUp, Since(events[0].Time));
                registered = MaxOf(registered, events.Where(e => e.Template.StartsWith("Registered", StringComparison.Ordinal)).Select(e => Since(e.Time)).DefaultIfEmpty(double.NaN).First());
            }
        }

        return new Sample(controllerUp, controllerReady, enginesUp, registered, returned, ran);
    }

    private static double MaxOf(double a, double b) => double.IsNaN(a) ? b : double.IsNaN(b) ? a : Math.Max(a, b);

    private static (DateTimeOffset Time, string Template)? Parse(string line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            return (root.GetProperty("@t").GetDateTimeOffset(), root.TryGetProperty("@mt", out var template) ? template.GetString() ?? string.Empty : string.Empty);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// <c>capcluster stop</c>, then waits until every process of the cluster (a component log is named for its pid) is
    /// gone: stop returns once it sent SIGKILL to a process slow to leave, and on a loaded machine that process can
    /// still hold the folder when the next start looks at it.
    /// </summary>
    private static async Task StopAsync(string capcluster, string folder, Variant variant)
    {
        var pids = Directory.GetFiles(Path.Combine(folder, "log"), "*.log")
            .Select(f => Path.GetFileNameWithoutExtension(f).Split('-')[^1])
            .Select(p => int.TryParse(p, CultureInfo.InvariantCulture, out var pid) ? pid : 0)
            .Where(pid => pid > 0)
            .ToList();
        await RunAsync(capcluster, folder, variant, "stop");
        var deadline = Stopwatch.StartNew();
        while (pids.Any(Alive))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"processes {string.Join(", ", pids.Where(Alive))} outlived `capcluster stop` by a minute");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Whether a process exists and is not a zombie (one that exited and was not yet reaped holds nothing).</summary>
    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault() is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task RunAsync(string exe, string baseFolder, Variant variant, params string[] args)
    {
        var start = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["CAPCLUSTER_DIR"] = baseFolder;
        foreach (var (name, value) in variant.Environment)
        {
            start.Environment[name] = value;
        }

        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"capcluster {string.Join(' ', args)} ({variant.Label}) exited with {p.ExitCode}: {await output}{await error}");
        }
    }

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}

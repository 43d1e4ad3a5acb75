using System.Diagnostics;
using CapCluster.Client;

namespace CapCluster.Bench;

/// <summary>Issue 4's figures on 2 engines: no-op round trip, throughput of delegate and code tasks, RSS after 100,000.</summary>
internal static class TaskBench
{
    public static async Task RunAsync(string app, string[] clusterOptions)
    {
        await using var cluster = await Bench.StartAsync(app, 2, clusterOptions);
        Console.WriteLine(clusterOptions.Contains("--no-journal") ? "Task journal: off (--no-journal)" : "Task journal: on");
        {
            var security = cluster.Security;
            await using var tc = await TaskClient.ConnectAsync(Path.Combine(security, "task.cap"));
            await using var mec = await MultiEngineClient.ConnectAsync(Path.Combine(security, "multiengine.cap"));
            var state = CapCluster.Security.ControllerState.TryRead(security)!;
            var idle = Bench.RssMiB(state.Pid);
            var engines = await mec.GetEnginesAsync();
            var processes = Processes(state.Pid, engines);

            for (var i = 0; i < 300; i++)
            {
                await RoundTripAsync(tc);
            }

            // Cold: the first round trips of fresh processes, while the JIT still tiers the client's code up.
            await MeasureRoundTripsAsync(tc, processes, 2_000, "No-op DelegateTask round trip, cold (right after start)");

            // Warm: what a cluster that has been working answers.
            for (var i = 0; i < 8_000; i++)
            {
                await RoundTripAsync(tc);
            }

            await MeasureRoundTripsAsync(tc, processes, 5_000, "No-op DelegateTask round trip, warm (after 10,000)");
            await tc.ClearAsync();
            foreach (var count in new[] { 20_000, 100_000 })
            {
                await ThroughputAsync(tc, processes, count, "DelegateTasks", () => DelegateTask.Of(() => 0));
            }

            Console.WriteLine($"RSS after 100,000 tasks: controller {Bench.RssMiB(state.Pid):0} MiB, engines {string.Join(", ", engines.Select(e => $"{Bench.RssMiB(e.Pid):0} MiB"))}");

            // Like for like, alternated: both kinds bring back the same value (0; a code task's by pulling the variable that
            // holds it), and each runs twice, so neither is measured colder.
            for (var round = 0; round < 2; round++)
            {
                await ThroughputAsync(tc, processes, 20_000, "CodeTasks returning 0", () => new CodeTask("var r = 0;") { Pull = ["r"] });
                await ThroughputAsync(tc, processes, 20_000, "DelegateTasks returning 0", () => DelegateTask.Of(() => 0));
            }

            await ThroughputAsync(tc, processes, 20_000, "CodeTasks returning nothing", () => new CodeTask("var r = 0;"));

            // What capturing costs: each task's captured value read, encoded and sent; and a delegate held in a captured variable.
            var zero = 0;
            Func<int> held = () => zero;
            await ThroughputAsync(tc, processes, 20_000, "DelegateTasks returning a captured int", () => DelegateTask.Of(() => zero));
            await ThroughputAsync(tc, processes, 20_000, "DelegateTasks calling a captured Func", () => DelegateTask.Of(() => held()));
            Console.WriteLine($"Controller RSS after the runs and a clear: {Bench.RssMiB(state.Pid):0} MiB");
            await Task.Delay(TimeSpan.FromSeconds(6));
            Console.WriteLine($"  6 s later (it gives memory back at most every 5 s): {Bench.RssMiB(state.Pid):0} MiB; idle, connected, before any task: {idle:0} MiB");
        }
    }

    /// <summary>The processes <see cref="ThroughputAsync"/> reports on, in its order: this client, the controller, the engines.</summary>
    public static int[] Processes(int controller, IEnumerable<EngineStatus> engines) => [Environment.ProcessId, controller, .. engines.Select(e => e.Pid)];

    /// <summary>
    /// <paramref name="count"/> tasks made by <paramref name="make"/>, submitted at once and waited for; prints tasks/s, the
    /// CPU each of <paramref name="processes"/> (this client, the controller, the engines) used meanwhile, and the controller's RSS.
    /// </summary>
    public static async Task ThroughputAsync(TaskClient tc, int[] processes, int count, string what, Func<TaskDefinition> make)
    {
        var cpu = CpuOf(processes);
        // This process is the client: what it allocates per task (making the definitions included) is its share of the collector's work.
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var ids = await tc.RunAsync([.. Enumerable.Range(0, count).Select(_ => make())]);
        var results = await tc.BarrierAsync(ids);
        clock.Stop();
        var perTask = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / count;
        var used = CpuOf(processes, since: cpu);
        var failed = results.Count(r => r.Status != CapCluster.Client.TaskStatus.Succeeded);
        Console.WriteLine($"{count:N0} no-op {what} submitted at once: {clock.Elapsed.TotalSeconds:0.00} s, {count / clock.Elapsed.TotalSeconds:N0} tasks/s ({failed} failed); " +
            $"CPU ms: {Describe(used, "")}; " +
            $"the client allocated {perTask:N0} B a task; controller RSS {Bench.RssMiB(processes[1]):0} MiB");
        await tc.ClearAsync();
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>One no-op task submitted and waited for; <paramref name="acknowledged"/> is told when its id came back.</summary>
    public static async Task<TaskOutcome> RoundTripAsync(TaskClient tc, Action? acknowledged = null)
    {
        var id = await tc.RunAsync(DelegateTask.Of(() => 0));
        acknowledged?.Invoke();
        return await tc.GetResultAsync(id);
    }

    /// <summary>
    /// Times <paramref name="count"/> no-op round trips; prints the percentiles and where the median goes, from the
    /// timestamps the controller (Submitted) and the engine (Started, Completed) put on each result, and the CPU each of
    /// <paramref name="processes"/> (this client, the controller, the engines) spent a round trip: what shortens a trip
    /// when, as here, the processes together spend more CPU a trip than the trip takes. Also how often their threads
    /// were put to sleep and woken (or preempted) a trip, each a few microseconds of the kernel's, and how many methods
    /// this client compiled meanwhile (the JIT's time is CPU the client spent beside the trips).
    /// </summary>
    private static async Task MeasureRoundTripsAsync(TaskClient tc, int[] processes, int count, string title)
    {
        var before = Usage.Of(processes);
        var trips = new List<double>(count);
        var legs = new[] { new List<double>(count), new List<double>(count), new List<double>(count), new List<double>(count) };
        var acknowledged = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var t = Stopwatch.GetTimestamp();
            var sent = DateTimeOffset.UtcNow;
            var outcome = await RoundTripAsync(tc, () => acknowledged.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds));
            var received = DateTimeOffset.UtcNow;
            trips.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            legs[0].Add((outcome.Submitted - sent).TotalMicroseconds);
            legs[1].Add((outcome.Started!.Value - outcome.Submitted).TotalMicroseconds);
            legs[2].Add((outcome.Completed!.Value - outcome.Started.Value).TotalMicroseconds);
            legs[3].Add((received - outcome.Completed.Value).TotalMicroseconds);
        }

        var used = Usage.Of(processes).Since(before);
        Console.WriteLine($"{title}: {Bench.Percentiles(trips)}");
        Console.WriteLine($"  medians: client to controller {Median(legs[0]):0} µs, controller to engine start {Median(legs[1]):0} µs, "
            + $"run {Median(legs[2]):0} µs, engine end to client {Median(legs[3]):0} µs; the client had the task's id after {Median(acknowledged):0} µs");
        Console.WriteLine($"  CPU a round trip: {Describe([.. used.CpuMs.Select(ms => ms * 1000 / count)], " µs")}; the client compiled {used.Compiled:N0} methods meanwhile ({used.Compiling.TotalMilliseconds:0} ms)");
        Console.WriteLine($"  threads woken a round trip: {Describe([.. used.Switches.Select(n => (double)n / count)], "", "0.0")}");
    }

    /// <summary>
    /// What <see cref="Of"/>'s processes had used: CPU milliseconds and context switches each, and the methods this
    /// process had compiled (the JIT's count and time are taken first: reading /proc compiles code of its own).
    /// </summary>
    private sealed record Usage(double[] CpuMs, long[] Switches, long Compiled, TimeSpan Compiling)
    {
        public static Usage Of(int[] processes)
        {
            var (compiled, compiling) = (System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime());
            return new Usage(CpuOf(processes), [.. processes.Select(Bench.ContextSwitches)], compiled, compiling);
        }

        public Usage Since(Usage earlier) => new(
            [.. CpuMs.Select((ms, i) => ms - earlier.CpuMs[i])],
            [.. Switches.Select((n, i) => n - earlier.Switches[i])],
            Compiled - earlier.Compiled,
            Compiling - earlier.Compiling);
    }

    /// <summary>The CPU milliseconds each of <paramref name="processes"/> has used, or used since <paramref name="since"/>.</summary>
    public static double[] CpuOf(int[] processes, double[]? since = null) =>
        [.. processes.Select((pid, i) => Bench.CpuMs(pid) - (since?[i] ?? 0))];

    /// <summary>Figures for the processes of <see cref="Processes"/>, in its order: "client …, controller …, engines … + …".</summary>
    private static string Describe(double[] figures, string unit, string format = "0") =>
        $"client {Figure(figures[0], format)}{unit}, controller {Figure(figures[1], format)}{unit}, engines {string.Join(" + ", figures.Skip(2).Select(f => Figure(f, format)))}{unit}";

    private static string Figure(double value, string format) => value.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
}

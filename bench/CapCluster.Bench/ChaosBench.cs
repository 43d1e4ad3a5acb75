using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using CapCluster.Client;
using CapCluster.Security;

namespace CapCluster.Bench;

/// <summary>
/// <c>bench/run chaos [--minutes N] [--controller]</c>: a task workload on 3 engines for N minutes (default 2) while
/// engines, and with --controller the controller too, are killed with SIGKILL at random and started again; then
/// checks that every submitted task has exactly one result on the client that submitted it, and prints the counts.
/// Exit code 1 when a task was lost, answered twice or never answered.
/// </summary>
internal static class ChaosBench
{
    private const int Engines = 3;

    public static async Task<int> RunAsync(string app, TimeSpan duration, bool killController)
    {
        var folder = Directory.CreateTempSubdirectory("capcluster-chaos-").FullName;
        var security = Path.Combine(folder, "security");
        var ports = Enumerable.Range(0, 3).Select(_ => FreePort().ToString(CultureInfo.InvariantCulture)).ToArray();
        var (exit, output) = await Bench.RunAsync(Path.Combine(app, "capcluster"), folder,
            "start", "-n", Engines.ToString(CultureInfo.InvariantCulture), "--engine-port", ports[0], "--client-port", ports[1], "--data-port", ports[2]);
        if (exit != 0)
        {
            Console.Error.WriteLine(output);
            return 2;
        }

        var started = new List<Process>();
        try
        {
            await using var tc = await TaskClient.ConnectAsync(Path.Combine(security, "task.cap"));
            await using var mec = await MultiEngineClient.ConnectAsync(Path.Combine(security, "multiengine.cap"));
            var seen = new ConcurrentDictionary<long, int>();
            using var stopFeed = new CancellationTokenSource();
            var feed = Task.Run(async () =>
            {
                await foreach (var outcome in tc.ResultsAsync(stopFeed.Token))
                {
                    seen.AddOrUpdate(outcome.TaskId, 1, (_, n) => n + 1);
                }
            });

            var submitted = new ConcurrentQueue<long>();
            var refusedSubmissions = 0;
            using var stop = new CancellationTokenSource(duration);
            var submitter = Task.Run(async () =>
            {
                var next = 0;
                while (!stop.IsCancellationRequested)
                {
                    // At most ~2,000 unanswered at a time, so the run ends soon after the submitting does.
                    while (submitted.Count - seen.Count > 2000 && !stop.IsCancellationRequested)
                    {
                        await Task.Delay(20);
                    }

                    var batch = Enumerable.Range(next, 200).Select(i => (TaskDefinition)new CodeTask("System.Threading.Thread.Sleep(x % 7); var y = x;")
                    {
                        Push = new Dictionary<string, object?> { ["x"] = i },
                        Pull = ["y"],
                        Retries = 5,
                    }).ToList();
                    next += batch.Count;
                    try
                    {
                        foreach (var id in await tc.RunAsync(batch))
                        {
                            submitted.Enqueue(id);
                        }
                    }
                    catch (CapClusterException)
                    {
                        // Written when the controller died and not acknowledged: the client says so rather than send it twice.
                        Interlocked.Increment(ref refusedSubmissions);
                    }

                    await Task.Delay(50);
                }
            });

            var random = new Random(1234);
            int engineKills = 0, controllerKills = 0;
            var clock = Stopwatch.StartNew();
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(2 + random.NextDouble() * 4));
                if (stop.IsCancellationRequested)
                {
                    break;
                }

                if (killController && random.Next(4) == 0)
                {
                    var pid = ControllerState.TryRead(security)!.Pid;
                    Process.GetProcessById(pid).Kill();
                    controllerKills++;
                    Console.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  killed the controller (pid {pid}); starting it again");
                    started.Add(await StartControllerAsync(app, folder));
                }
                else
                {
                    var engines = await mec.GetEnginesAsync();
                    if (engines.Count == 0)
                    {
                        continue;
                    }

                    var victim = engines[random.Next(engines.Count)];
                    try
                    {
                        Process.GetProcessById(victim.Pid).Kill();
                    }
                    catch (ArgumentException)
                    {
                        continue;
                    }

                    engineKills++;
                    Console.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  killed engine {victim.Id} (pid {victim.Pid}); starting another");
                    var engine = Start(Path.Combine(app, "capengine"), folder);
                    engine.OutputDataReceived += (_, _) => { };
                    engine.BeginOutputReadLine();
                    started.Add(engine);
                }
            }

            await submitter;
            Console.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  stopped submitting; waiting for every result");
            var ids = submitted.ToList();
            var outcomes = new ConcurrentDictionary<long, string>();
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (id, _) =>
            {
                try
                {
                    var outcome = await tc.GetResultAsync(id, timeout: TimeSpan.FromMinutes(5));
                    outcomes[id] = outcome.Status.ToString();
                }
                catch (TaskLostException)
                {
                    outcomes[id] = "lost";
                }
                catch (CapClusterException e)
                {
                    outcomes[id] = "error: " + e.GetType().Name;
                }
            });

            await Task.Delay(1000);
            await stopFeed.CancelAsync();
            await feed.ContinueWith(_ => { });
            var twice = seen.Count(s => s.Value > 1);
            var unseen = ids.Count(id => !seen.ContainsKey(id) && outcomes[id] != "lost");
            Console.WriteLine();
            Console.WriteLine($"chaos for {duration.TotalMinutes:0.#} min: {engineKills} engine kill(s), {controllerKills} controller kill(s)");
            Console.WriteLine($"  {"tasks acknowledged",-34} {ids.Count,8:N0}");
            foreach (var group in outcomes.Values.GroupBy(v => v).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                Console.WriteLine($"  {"  " + group.Key,-34} {group.Count(),8:N0}");
            }

            Console.WriteLine($"  {"submissions refused or cut off",-34} {refusedSubmissions,8:N0}");
            Console.WriteLine($"  {"results delivered twice",-34} {twice,8:N0}");
            Console.WriteLine($"  {"results never delivered",-34} {unseen,8:N0}");
            var lost = outcomes.Values.Count(v => v != "Succeeded" && v != "Failed");
            Console.WriteLine(lost + twice + unseen == 0 ? "every acknowledged task has exactly one result" : "NOT every acknowledged task has exactly one result");
            return lost + twice + unseen == 0 ? 0 : 1;
        }
        finally
        {
            await Bench.RunAsync(Path.Combine(app, "capcluster"), folder, "stop");
            foreach (var process in started.Where(p => !p.HasExited))
            {
                process.Kill();
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    private static Process Start(string exe, string folder, params string[] args)
    {
        var start = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["CAPCLUSTER_DIR"] = folder;
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<Process> StartControllerAsync(string app, string folder)
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var controller = Start(Path.Combine(app, "capcontroller"), folder, "--reuse");
        controller.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is { Length: > 0 } text)
            {
                ready.TrySetException(new InvalidOperationException("the restarted controller said: " + text));
            }
        };
        controller.OutputDataReceived += (_, line) =>
        {
            if (line.Data?.Contains("ready", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        controller.BeginOutputReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return controller;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Diagnostics;
using CapCluster.Client;
using CapCluster.Launcher.Internal.Launchers;
using CapCluster.Security;
using CapCluster.Tools;

namespace CapCluster.Launcher.Internal;

/// <summary>
/// <c>capcluster start</c>: a controller and N engines on this machine, detached, with
/// progress while they come up. Returns once every engine has registered; on failure
/// it stops what it started and names the log to read.
/// </summary>
internal sealed class ClusterStarter(ClusterPaths paths, TextWriter output)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan ControllerTimeout = TimeSpan.FromSeconds(30);

    public async Task<int> StartAsync(StartOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        // Said here in one line: a controller started on a folder it cannot write would fail with only a shell's complaint.
        paths.EnsureWritable();
        if (ControllerState.TryReadPid(paths.SecurityFolder) is { } running && LiveProcess.IsRunning(running, "capcontroller"))
        {
            throw new CapClusterException(
                $"a controller for {ProfileText.Name(options.Profile)} is already running (pid {running}); " +
                $"stop it with `capcluster stop{ProfileText.Flag(options.Profile)}` or pick another --profile");
        }

        // A second controller would leave the first one's engines waiting for it, and its clients on ports nobody serves.
        if (ClusterRecord.OrphanedEngines(paths, options.Profile) is { } orphaned)
        {
            throw new CapClusterException(orphaned);
        }

        var launcher = EngineLaunchers.For(options.Launcher, paths, output);
        output.Write($"Starting the controller ({ProfileText.Name(options.Profile)})... ");
        var controller = DetachedProcess.Start(Programs.Controller, options.ControllerArguments(), paths.LogFolder, Programs.ControllerEnvironment);
        var started = new List<Process> { controller };
        var record = new ClusterRecord(controller.Id, [], options.Launcher);
        try
        {
            // Engines on this machine start now and wait for the controller's state file: their runtime start-up and
            // the controller's overlap, rather than following each other. Only as many as there are cores: more take
            // the CPU the controller needs to become ready, and every engine waits for that (measured on 2 cores,
            // 2026-12-04: 2 engines each ran a no-op at 2.42 s started beside, 2.58 s after; 8 at 8.09 s beside, 7.42 s after).
            var launched = launcher.StartsBesideController && options.Engines <= Environment.ProcessorCount
                ? await LaunchAsync(options with { ControllerPid = controller.Id }).ConfigureAwait(false)
                : null;
            var state = await WaitForControllerAsync(controller, ControllerTimeout, cancellationToken).ConfigureAwait(false);
            output.WriteLine($"ready: engines on {state.ListenAddress}:{state.EnginePort}, clients on {state.ListenAddress}:{state.ClientPort}, data lanes on {state.ListenAddress}:{state.DataPort} ({clock.Elapsed.TotalSeconds:0.00} s)");
            launched ??= await LaunchAsync(options).ConfigureAwait(false);
            using (launched)
            {
                await WaitForEnginesAsync(launched, controller, clock, options.Timeout, cancellationToken).ConfigureAwait(false);
            }

            PrintHowToConnect(options);
            return 0;
        }
        catch
        {
            foreach (var process in started)
            {
                Kill(process);
            }

            if (record.JobId is not null)
            {
                await launcher.CleanUpAsync(record, CancellationToken.None).ConfigureAwait(false);
            }

            ClusterRecord.Delete(paths);
            throw;
        }

        async Task<LaunchedEngines> LaunchAsync(StartOptions how)
        {
            var launched = await launcher.LaunchAsync(how, cancellationToken).ConfigureAwait(false);
            started.AddRange(launched.Watched);
            record = record with { EnginePids = [.. launched.Watched.Select(e => e.Id)], JobId = launched.JobId };
            record.Write(paths);
            return launched;
        }
    }

    private async Task<ControllerState> WaitForControllerAsync(Process controller, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var state = ControllerState.TryReadNow(paths.SecurityFolder);
            if (state?.Pid == controller.Id)
            {
                return state;
            }

            if (controller.HasExited)
            {
                output.WriteLine("failed.");
                throw new CapClusterException(
                    $"the controller exited with code {controller.ExitCode}: {Tail(DetachedProcess.OutputFile(paths.LogFolder, "capcontroller", controller.Id))}");
            }

            if (deadline.Elapsed > timeout)
            {
                output.WriteLine("timed out.");
                throw new CapClusterException($"the controller did not become ready within {timeout.TotalSeconds:0} s; read {LogOf("capcontroller", controller.Id)}");
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits until the launched engines registered; fails when a watched process, or the controller, exits first. Engines
    /// on this machine say so themselves on a pipe; others are seen through the controller, which answers as soon as one
    /// registers. An exit is seen when it happens: nothing here polls.
    /// </summary>
    private async Task WaitForEnginesAsync(LaunchedEngines launched, Process controller, Stopwatch clock, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (expected, watched, ours) = (launched.Expected, launched.Watched.Append(controller), launched.Ours);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var registered = 0;
        var shown = -1;
        bool Report(int count)
        {
            registered = count;
            if (registered != shown)
            {
                output.WriteLine($"Engines registered: {registered}/{expected} ({clock.Elapsed.TotalSeconds:0.00} s)");
                shown = registered;
            }

            return registered >= expected;
        }

        async Task FromPipeAsync(RegistrationPipe pipe)
        {
            if (Report(0))
            {
                return;
            }

            var ids = new HashSet<int>();
            await foreach (var id in pipe.ReadAsync(waiting.Token).ConfigureAwait(false))
            {
                if (ids.Add(id) && Report(ids.Count))
                {
                    return;
                }
            }

            // Every engine let go of the pipe, not all registered: one exited, which the exit watch below reports.
            await Task.Delay(Timeout.Infinite, waiting.Token).ConfigureAwait(false);
        }

        async Task FromControllerAsync()
        {
            await using var client = await MultiEngineClient.ConnectAsync(paths.CapFile(CapabilityInterfaces.MultiEngine), waiting.Token).ConfigureAwait(false);
            await client.WaitForEnginesAsync(engines => Report(engines.Count(ours)), waiting.Token).ConfigureAwait(false);
        }

        var all = launched.Registrations is { } pipe ? FromPipeAsync(pipe) : FromControllerAsync();
        var exited = watched.Select(async process =>
        {
            await process.WaitForExitAsync(waiting.Token).ConfigureAwait(false);
            return process;
        }).ToList();
        var expiry = Task.Delay(timeout, waiting.Token);
        try
        {
            var first = await Task.WhenAny([all, expiry, .. exited]).ConfigureAwait(false);
            if (first == all)
            {
                await all.ConfigureAwait(false);
                return;
            }

            if (first != expiry)
            {
                var dead = await ((Task<Process>)first).ConfigureAwait(false);
                var name = DetachedProcess.ProgramName(dead);
                throw new CapClusterException(
                    $"{name} process {dead.Id} exited with code {dead.ExitCode} before its engines registered: " +
                    $"{Tail(DetachedProcess.OutputFile(paths.LogFolder, name, dead.Id))} (log: {LogOf(name, dead.Id)})");
            }

            cancellationToken.ThrowIfCancellationRequested();
            throw new CapClusterException($"only {registered} of {expected} engines registered within {timeout.TotalSeconds:0} s; {launched.TimeoutHint}");
        }
        finally
        {
            await waiting.CancelAsync().ConfigureAwait(false);
            // The losers end with the cancellation; their outcome is not news.
            await Task.WhenAll([all, expiry, .. exited]).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    private void PrintHowToConnect(StartOptions options)
    {
        var me = paths.CapFile(CapabilityInterfaces.MultiEngine);
        var task = paths.CapFile(CapabilityInterfaces.Task);
        var defaultFolder = ClusterPaths.Resolve().SecurityFolder == paths.SecurityFolder;
        var meArgument = defaultFolder ? string.Empty : $"@\"{me}\"";
        var taskArgument = defaultFolder ? string.Empty : $"@\"{task}\"";
        output.WriteLine();
        output.WriteLine("Connect from C#:");
        output.WriteLine("    using CapCluster.Client;");
        output.WriteLine($"    await using var mec = await MultiEngineClient.ConnectAsync({meArgument});");
        output.WriteLine("    var ids = await mec.GetIdsAsync();");
        output.WriteLine($"    await using var tc = await TaskClient.ConnectAsync({taskArgument});");
        output.WriteLine();
        output.WriteLine($"Capabilities: {me}, {task} (engines: {paths.CapFile(CapabilityInterfaces.Engine)})");
        output.WriteLine($"Status: capcluster status{ProfileText.Flag(options.Profile)}    Stop: capcluster stop{ProfileText.Flag(options.Profile)}");
    }

    private string LogOf(string component, int pid) => Path.Combine(paths.LogFolder, $"{component}-{pid}.log");

    private static string Tail(string file)
    {
        try
        {
            var lines = File.ReadAllLines(file).Where(l => l.Length > 0).TakeLast(5);
            var text = string.Join(" | ", lines);
            return text.Length > 0 ? text : $"(no output; see {file})";
        }
        catch (IOException)
        {
            return $"(no output in {file})";
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
        }
    }
}

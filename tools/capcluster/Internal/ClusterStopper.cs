using System.Diagnostics;
using CapCluster.Client;
using CapCluster.Launcher.Internal.Launchers;
using CapCluster.Security;
using CapCluster.Tools;

namespace CapCluster.Launcher.Internal;

/// <summary>
/// <c>capcluster stop</c>: asks the controller, through the multiengine capability, to
/// stop its engines and itself; then makes sure every process <c>start</c> launched has ended.
/// </summary>
internal sealed class ClusterStopper(ClusterPaths paths, TextWriter output)
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    public async Task<int> StopAsync(string? profile, CancellationToken cancellationToken)
    {
        var state = ControllerState.TryRead(paths.SecurityFolder);
        var record = ClusterRecord.TryRead(paths);
        var running = state is not null && LiveProcess.IsRunning(state.Pid, "capcontroller");
        var stoppedEngines = 0;
        // The pids of engines the controller stopped: one still exiting below is ended, not counted a second time.
        var stoppedPids = new HashSet<int>();
        if (running)
        {
            try
            {
                await using var client = await MultiEngineClient.ConnectAsync(paths.CapFile(CapabilityInterfaces.MultiEngine), cancellationToken).ConfigureAwait(false);
                var engines = await client.GetEnginesAsync(cancellationToken).ConfigureAwait(false);
                var killed = (await client.KillAsync(controller: true, cancellationToken: cancellationToken).ConfigureAwait(false)).ToHashSet();
                stoppedEngines = killed.Count;
                stoppedPids.UnionWith(engines.Where(e => killed.Contains(e.Id)).Select(e => e.Pid));
            }
            catch (CapClusterException e)
            {
                output.WriteLine($"The controller did not take the stop request ({e.Message}); sending it SIGTERM.");
            }

            await EndAsync(state!.Pid, ["capcontroller"], cancellationToken).ConfigureAwait(false);
        }

        var leftovers = 0;
        foreach (var pid in record?.EnginePids ?? [])
        {
            if (LiveProcess.IsRunning(pid, ClusterRecord.EngineProcessNames))
            {
                leftovers += stoppedPids.Contains(pid) ? 0 : 1;
                await EndAsync(pid, ClusterRecord.EngineProcessNames, cancellationToken).ConfigureAwait(false);
            }
        }

        // A batch job ends when its engines do, but one still queued would start them later.
        if (record is { JobId: not null, Scheduler: not null })
        {
            await EngineLaunchers.For(record.Scheduler, paths, output).CleanUpAsync(record, cancellationToken).ConfigureAwait(false);
        }

        ClusterRecord.Delete(paths);
        if (!running && leftovers == 0)
        {
            output.WriteLine($"No controller is running for {ProfileText.Name(profile)}.");
            return 0;
        }

        output.WriteLine(running
            ? $"Stopped the controller (pid {state!.Pid}) and {stoppedEngines + leftovers} engine(s)."
            : $"Stopped {leftovers} engine(s) left without a controller.");
        return 0;
    }

    private static async Task EndAsync(int pid, string[] name, CancellationToken cancellationToken)
    {
        if (await ExitedAsync(pid, name, Grace, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        Signal(pid, "TERM");
        if (!await ExitedAsync(pid, name, Grace, cancellationToken).ConfigureAwait(false))
        {
            Signal(pid, "KILL");
        }
    }

    private static async Task<bool> ExitedAsync(int pid, string[] name, TimeSpan within, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (LiveProcess.IsRunning(pid, name))
        {
            if (clock.Elapsed > within)
            {
                return false;
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false });
        kill?.WaitForExit();
    }
}

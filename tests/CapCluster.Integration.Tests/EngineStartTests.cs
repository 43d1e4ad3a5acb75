using System.Diagnostics;
using System.Globalization;
using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary><c>capengine --controller-pid</c>: an engine started beside a controller that is still starting waits for it.</summary>
public sealed class EngineStartTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Engine_StartedBeforeItsController_WaitsForItsStateAndConnectsToItsNewPort()
    {
        await using var cluster = new ClusterDirectory();

        // A controller that ran here on a random port left an engine.cap naming that port: an engine that did not wait
        // would read it and knock on a port where nobody listens.
        var last = await cluster.StartControllerAsync();
        last.Process.Kill();
        await last.Process.WaitForExitAsync().WaitAsync(Timeout);

        // The next one is held before it can be ready (SIGSTOP), and its engine starts meanwhile.
        var controller = cluster.Start("capcontroller");
        await SignalAsync("STOP", controller.Process.Id);
        var engine = cluster.Start("capengine", "--controller-pid", controller.Process.Id.ToString(CultureInfo.InvariantCulture));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.False(engine.Process.HasExited, "the engine did not wait for its controller:\n" + engine.Output);
        await SignalAsync("CONT", controller.Process.Id);

        await controller.WaitForLineAsync("ready", Timeout);
        var state = ControllerState.TryRead(cluster.Paths().SecurityFolder)!;
        Assert.Equal(controller.Process.Id, state.Pid);
        await using var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        await ClusterDirectory.WaitForEnginesAsync(client, 1, Timeout);
    }

    [Fact]
    public async Task Engine_ControllerPidOfNoController_ExitsAtOnceSayingSo()
    {
        await using var cluster = new ClusterDirectory();
        using var sleeper = Process.Start("sleep", "60");
        try
        {
            var clock = Stopwatch.StartNew();
            var result = await cluster.RunAsync("capengine", "--controller-pid", sleeper.Id.ToString(CultureInfo.InvariantCulture));

            Assert.Equal(2, result.ExitCode);
            Assert.Contains($"--controller-pid {sleeper.Id}: that controller is not running", result.Error, StringComparison.Ordinal);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the engine took {clock.Elapsed} to notice");
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Fact]
    public async Task Engine_StartedByHandAtATerminal_SaysItConnectedAndRegistered_ThenThatItLostTheControllerAndHowToRestartIt()
    {
        await using var cluster = new ClusterDirectory();
        var controller = await cluster.StartControllerAsync();
        await using var terminal = await TmuxTerminal.StartAsync(Repository.App("capengine"), ["--controller-timeout", "6"],
            new Dictionary<string, string> { ["CAPCLUSTER_DIR"] = cluster.BaseFolder });

        await terminal.WaitForAsync(s => s.Contains("capengine: registered as engine 0", StringComparison.Ordinal), "the engine's registration", Timeout);
        var screen = await terminal.CaptureAsync();
        Assert.Contains($"capengine: connecting to the controller at 127.0.0.1:{ControllerState.TryRead(cluster.Paths().SecurityFolder)!.EnginePort} with {cluster.CapFile(CapabilityInterfaces.Engine)}", screen, StringComparison.Ordinal);

        controller.Process.Kill();
        screen = await terminal.WaitForAsync(s => s.Contains("gave up on the controller", StringComparison.Ordinal), "the engine giving up", Timeout);
        Assert.Contains("capengine: lost the controller at 127.0.0.1:", screen, StringComparison.Ordinal);
        Assert.Contains("(--controller-timeout). Is it running? `capcluster status` says; a controller that died starts again on its ports with `capcontroller --reuse`", screen, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", screen, StringComparison.Ordinal);
    }

    private static async Task SignalAsync(string signal, int pid)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().WaitAsync(Timeout);
        Assert.Equal(0, kill.ExitCode);
    }
}

using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>An engine whose controller is gone retries for --controller-timeout, then exits saying why.</summary>
public sealed class EngineTimeoutTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Engine_ControllerKilled_ExitsWithCode4AfterItsControllerTimeout()
    {
        await using var cluster = new ClusterDirectory();
        var controller = await cluster.StartControllerAsync();
        var engine = cluster.Start("capengine", "--controller-timeout", "3");
        await using (var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout))
        {
            await ClusterDirectory.WaitForEnginesAsync(client, 1, Timeout);

            // The controller lists an engine before the engine has read its confirmation; killed in between, the engine
            // never registered and rightly counts from its start. Work answered comes after the confirmation.
            await client.ExecuteAsync("1").GetAsync(Timeout);
        }

        // Timed from before the kill: the engine cannot lose its controller earlier, and it may notice the loss before
        // this process sees the controller exit.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        controller.Process.Kill();
        await controller.Process.WaitForExitAsync().WaitAsync(Timeout);
        await engine.Process.WaitForExitAsync().WaitAsync(Timeout);

        Assert.Equal(4, engine.Process.ExitCode);
        Assert.Contains("gave up on the controller", engine.StandardError, StringComparison.Ordinal);
        Assert.Contains("--controller-timeout 3 s", engine.StandardError, StringComparison.Ordinal);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.9), $"the engine gave up {clock.Elapsed} after its controller was killed, before its timeout of 3 s " +
            $"(it counts from its first loss not followed by a new registration; a loss before the kill shows here):\n{engine.StandardError}");
    }

    [Fact]
    public async Task Engine_NoController_KeepsTryingWithinItsTimeout_AndRegistersWhenOneStarts()
    {
        await using var cluster = new ClusterDirectory();
        var ports = new[] { "--engine-port", ClusterDirectory.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var first = await cluster.StartControllerAsync(ports);
        first.Process.Kill();
        await first.Process.WaitForExitAsync().WaitAsync(Timeout);

        var engine = cluster.Start("capengine", "--controller-timeout", "60");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(engine.Process.HasExited, "the engine gave up before its timeout:\n" + engine.Output);

        await cluster.StartControllerAsync(ports);
        await using var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        await ClusterDirectory.WaitForEnginesAsync(client, 1, Timeout);
    }

    [Fact]
    public async Task Engine_NonPositiveControllerTimeout_IsRefusedNamingTheOption()
    {
        await using var cluster = new ClusterDirectory();
        var result = await cluster.RunAsync("capengine", "--controller-timeout", "0");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--controller-timeout must be positive", result.Error, StringComparison.Ordinal);
    }
}

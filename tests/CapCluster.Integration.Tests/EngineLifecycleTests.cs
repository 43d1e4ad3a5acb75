using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

public sealed class EngineLifecycleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Engine_OnSigterm_ExitsCleanlyAndIsUnregistered()
    {
        await using var cluster = new ClusterDirectory();
        await cluster.StartControllerAsync();
        var engine = cluster.Start("capengine");
        await using var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        await ClusterDirectory.WaitForEnginesAsync(client, 1, Timeout);

        engine.Terminate();
        await engine.Process.WaitForExitAsync().WaitAsync(Timeout);

        Assert.Equal(0, engine.Process.ExitCode);
        Assert.Empty(await ClusterDirectory.WaitForEnginesAsync(client, 0, Timeout));
    }

    [Fact]
    public async Task SilentEngine_IsUnregistered_AndComesBackUnderItsIdWhenItResumes()
    {
        await using var cluster = new ClusterDirectory();
        await cluster.StartControllerAsync("--heartbeat-period", "0.2", "--heartbeat-misses", "2");
        cluster.Start("capengine");
        var silent = cluster.Start("capengine");
        await using var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        await ClusterDirectory.WaitForEnginesAsync(client, 2, Timeout);
        var silentId = (await client.GetEnginesAsync().WaitAsync(Timeout)).Single(e => e.Pid == silent.Process.Id).Id;

        Signal(silent.Process.Id, "STOP");
        try
        {
            var remaining = await ClusterDirectory.WaitForEnginesAsync(client, 1, Timeout);
            Assert.DoesNotContain(silentId, remaining);
        }
        finally
        {
            Signal(silent.Process.Id, "CONT");
        }

        await ClusterDirectory.WaitForEnginesAsync(client, 2, Timeout);
        var back = (await client.GetEnginesAsync().WaitAsync(Timeout)).Single(e => e.Pid == silent.Process.Id);
        Assert.Equal(silentId, back.Id);
    }

    [Fact]
    public async Task TaskRunning120HeartbeatPeriods_ItsEngineStaysRegistered_WhileAStoppedEngineIsUnregistered()
    {
        await using var cluster = new ClusterDirectory();
        await cluster.StartControllerAsync("--heartbeat-period", "0.1", "--heartbeat-misses", "5");
        var busy = cluster.Start("capengine");
        await using var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        await using var tasks = await TaskClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.Task)).WaitAsync(Timeout);
        var busyId = (await ClusterDirectory.WaitForEnginesAsync(client, 1, Timeout)).Single();

        // 12 s of a spinning core: 120 heartbeat periods, where 0.6 s of silence unregisters an engine.
        var spin = await tasks.RunAsync(new CodeTask("var end = System.DateTime.UtcNow.AddSeconds(12); long spins = 0; while (System.DateTime.UtcNow < end) spins++;")).WaitAsync(Timeout);
        var stopped = cluster.Start("capengine");
        await ClusterDirectory.WaitForEnginesAsync(client, 2, Timeout);
        var stoppedId = (await client.GetEnginesAsync().WaitAsync(Timeout)).Single(e => e.Pid == stopped.Process.Id).Id;
        Signal(stopped.Process.Id, "STOP");
        try
        {
            var remaining = await ClusterDirectory.WaitForEnginesAsync(client, 1, Timeout);
            Assert.Equal([busyId], remaining);
            var outcome = await tasks.GetResultAsync(spin).WaitAsync(Timeout);
            Assert.Equal(CapCluster.Client.TaskStatus.Succeeded, outcome.Status);
            Assert.Equal((busyId, 1), (outcome.EngineId, outcome.Attempts));
            Assert.DoesNotContain(stoppedId, await client.GetIdsAsync().WaitAsync(Timeout));
            Assert.Contains(busyId, await client.GetIdsAsync().WaitAsync(Timeout));
        }
        finally
        {
            Signal(stopped.Process.Id, "CONT");
        }
    }

    [Fact]
    public async Task KillOneEngine_OthersAndTheControllerKeepWorking()
    {
        await using var cluster = new ClusterDirectory();
        await cluster.StartControllerAsync();
        var engines = new[] { cluster.Start("capengine"), cluster.Start("capengine"), cluster.Start("capengine") };
        await using var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        await ClusterDirectory.WaitForEnginesAsync(client, 3, Timeout);

        Assert.Equal([1], await client.KillAsync([1]).WaitAsync(Timeout));

        Assert.Equal([0, 2], await client.GetIdsAsync().WaitAsync(Timeout));
        Assert.Equal([0, 2], await client.PingAsync().WaitAsync(Timeout));
        var exited = await Task.WhenAny(engines.Select(async e => { await e.Process.WaitForExitAsync(); return e; })).WaitAsync(Timeout);
        Assert.Equal(0, (await exited).Process.ExitCode);
        Assert.Single(engines, e => e.Process.HasExited);
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }
}

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

using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

public sealed class RestartTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task PinnedPorts_RestartedController_AcceptsOldCapsAndEnginesReRegister()
    {
        await using var cluster = new ClusterDirectory();
        var ports = new[]
        {
            "--engine-port", ClusterDirectory.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--client-port", ClusterDirectory.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--data-port", ClusterDirectory.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var bulk = Enumerable.Range(0, 1 << 20).Select(i => (double)i).ToArray();
        var first = await cluster.StartControllerAsync(ports);
        var copies = Directory.CreateTempSubdirectory("capcluster-old-").FullName;
        try
        {
            var oldEngineCap = Path.Combine(copies, "engine.cap");
            var oldClientCap = Path.Combine(copies, "multiengine.cap");
            File.Copy(cluster.CapFile(CapabilityInterfaces.Engine), oldEngineCap);
            File.Copy(cluster.CapFile(CapabilityInterfaces.MultiEngine), oldClientCap);
            cluster.Start("capengine", "--cap-file", oldEngineCap);
            cluster.Start("capengine", "--cap-file", oldEngineCap);
            await using var before = await MultiEngineClient.ConnectAsync(oldClientCap).WaitAsync(Timeout);
            Assert.Equal([0, 1], await ClusterDirectory.WaitForEnginesAsync(before, 2, Timeout));
            var pidsBefore = (await before.GetEnginesAsync().WaitAsync(Timeout)).ToDictionary(e => e.Id, e => e.Pid);
            await before.PushAsync("bulk", bulk).GetAsync(Timeout);

            first.Terminate();
            await first.Process.WaitForExitAsync().WaitAsync(Timeout);
            await cluster.StartControllerAsync(ports);

            // The old files still hold: same CA, same registry, same ports; nothing was re-issued.
            Assert.Equal(await File.ReadAllTextAsync(oldClientCap), await File.ReadAllTextAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)));
            await using var after = await MultiEngineClient.ConnectAsync(oldClientCap).WaitAsync(Timeout);
            Assert.Equal([0, 1], await ClusterDirectory.WaitForEnginesAsync(after, 2, Timeout));
            var pidsAfter = (await after.GetEnginesAsync().WaitAsync(Timeout)).ToDictionary(e => e.Id, e => e.Pid);
            Assert.Equal(pidsBefore, pidsAfter);

            // A client that was connected before the restart works again on its own, its data lanes too.
            Assert.Equal([0, 1], await before.GetIdsAsync().WaitAsync(Timeout));
            await before.PushAsync("bulk", bulk.Reverse().ToArray()).GetAsync(Timeout);
            Assert.All(await before.PullAsync<double[]>("bulk").GetAsync(Timeout), b => Assert.Equal(bulk.Reverse(), b));
        }
        finally
        {
            Directory.Delete(copies, recursive: true);
        }
    }

    [Fact]
    public async Task Reuse_TakesTheLastRunsPorts_AndKeepsTheCapFiles()
    {
        await using var cluster = new ClusterDirectory();
        var first = await cluster.StartControllerAsync();
        var before = ControllerState.TryRead(cluster.Paths().SecurityFolder)!;
        var capBefore = await File.ReadAllTextAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine));
        first.Terminate();
        await first.Process.WaitForExitAsync().WaitAsync(Timeout);

        await cluster.StartControllerAsync("--reuse");

        var after = ControllerState.TryRead(cluster.Paths().SecurityFolder)!;
        Assert.Equal((before.EnginePort, before.ClientPort, before.DataPort), (after.EnginePort, after.ClientPort, after.DataPort));
        Assert.Equal(capBefore, await File.ReadAllTextAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)));
        await using var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        Assert.Empty(await client.GetIdsAsync().WaitAsync(Timeout));
    }
}

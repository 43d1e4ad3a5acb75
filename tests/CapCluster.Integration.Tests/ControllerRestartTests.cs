using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>Clients carry on when their controller is killed and restarted on its pinned ports, on the same client objects.</summary>
public sealed class ControllerRestartTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ControllerKilled_InFlightCallFailsNamingTheLostController_AndTheSameClientsWorkAfterTheRestart(bool journal)
    {
        await using var cluster = new ClusterDirectory();
        string[] ports = [.. ClusterDirectory.PinnedPorts(), .. journal ? Array.Empty<string>() : ["--no-journal"]];
        var controller = await cluster.StartControllerAsync(ports);
        cluster.Start("capengine");
        cluster.Start("capengine");
        await using var engines = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        await using var tasks = await TaskClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.Task)).WaitAsync(Timeout);
        await ClusterDirectory.WaitForEnginesAsync(engines, 2, Timeout);

        var done = await tasks.RunAsync(new CodeTask("var y = 1;") { Pull = ["y"] }).WaitAsync(Timeout);
        Assert.Equal(1, (await tasks.GetResultAsync(done).WaitAsync(Timeout)).Get<int>("y"));
        // This stream lists the delegate's assembly closure; the tasks after the restart name it on a new stream.
        var offset = 40;
        var shipped = await tasks.RunAsync(DelegateTask.Of((int x) => x + offset, 2)).WaitAsync(Timeout);
        Assert.Equal(42, (await tasks.GetResultAsync(shipped).WaitAsync(Timeout)).Get<int>());
        var pending = await tasks.RunAsync([.. Enumerable.Range(0, 20).Select(_ => (TaskDefinition)new CodeTask("System.Threading.Thread.Sleep(1000);"))]).WaitAsync(Timeout);
        var waits = pending.Select(id => tasks.GetResultAsync(id)).ToList();
        var inFlight = engines.ExecuteAsync("System.Threading.Thread.Sleep(2000);");
        await inFlight.WaitForSendAsync().WaitAsync(Timeout);

        controller.Process.Kill();
        await controller.Process.WaitForExitAsync().WaitAsync(Timeout);

        var lost = await Assert.ThrowsAsync<ControllerUnreachableException>(() => inFlight.GetAsync(Timeout));
        Assert.Contains("lost the connection to the controller", lost.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Is it running?", lost.Message, StringComparison.Ordinal);

        // Made while the controller is down: it waits for the controller, then is accepted.
        var whileDown = tasks.RunAsync(new CodeTask("var z = 7;") { Pull = ["z"] });
        await cluster.StartControllerAsync(ports);

        // The same MultiEngine client: its next calls reconnect by themselves and reach the re-registered engines.
        await ClusterDirectory.WaitForEnginesAsync(engines, 2, Timeout);
        var executed = await engines.ExecuteAsync("var w = 6 * 7;").GetAsync(Timeout);
        Assert.Equal(2, executed.Count);
        Assert.All(await engines.PullAsync<int>("w").GetAsync(Timeout), w => Assert.Equal(42, w));

        // The same task client: every wait ends, with its result (the journal kept the task) or, without a journal,
        // saying the task was lost with the controller.
        var lostTasks = 0;
        foreach (var (id, wait) in pending.Zip(waits))
        {
            try
            {
                Assert.True((await wait.WaitAsync(Timeout)).IsFinished);
            }
            catch (TaskLostException e)
            {
                lostTasks++;
                Assert.Equal(id, e.TaskId);
                Assert.Contains($"task {id} was lost with the controller", e.Message, StringComparison.Ordinal);
            }
        }

        if (journal)
        {
            Assert.Equal(0, lostTasks);
        }
        else
        {
            Assert.True(lostTasks > 0, "the controller restarted without a journal keeps no tasks, so some of the 20 must have been lost");
        }

        Assert.Equal(7, (await tasks.GetResultAsync(await whileDown.WaitAsync(Timeout)).WaitAsync(Timeout)).Get<int>("z"));
        var after = await tasks.RunAsync(new CodeTask("var y = 5;") { Pull = ["y"] }).WaitAsync(Timeout);
        Assert.Equal(5, (await tasks.GetResultAsync(after).WaitAsync(Timeout)).Get<int>("y"));
        var shippedAfter = await tasks.RunAsync([DelegateTask.Of((int x) => x + offset, 3), DelegateTask.Of(() => 6 * 7)]).WaitAsync(Timeout);
        Assert.Equal([43, 42], (await tasks.BarrierAsync(shippedAfter).WaitAsync(Timeout)).Select(o => o.Get<int>()));
    }

    [Fact]
    public async Task ControllerGone_CallsEndWithAClearErrorAfterTheReconnectTimeout()
    {
        await using var cluster = new ClusterDirectory();
        var controller = await cluster.StartControllerAsync();
        cluster.Start("capengine");
        var reconnect = new ReconnectOptions { Timeout = TimeSpan.FromSeconds(2) };
        await using var engines = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine), reconnect).WaitAsync(Timeout);
        await using var tasks = await TaskClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.Task), reconnect).WaitAsync(Timeout);
        await ClusterDirectory.WaitForEnginesAsync(engines, 1, Timeout);
        var running = await tasks.RunAsync(new CodeTask("System.Threading.Thread.Sleep(30000);")).WaitAsync(Timeout);
        var wait = tasks.GetResultAsync(running);

        controller.Process.Kill();
        await controller.Process.WaitForExitAsync().WaitAsync(Timeout);

        var call = await Assert.ThrowsAsync<ControllerUnreachableException>(() => engines.ExecuteAsync("1").GetAsync(Timeout));
        Assert.True(call.Message.Contains("out of reach for", StringComparison.Ordinal), call.ToString());
        var ids = await Assert.ThrowsAsync<ControllerUnreachableException>(() => engines.GetIdsAsync().WaitAsync(Timeout));
        Assert.Contains("ReconnectOptions.Timeout", ids.Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<CapClusterException>(() => wait.WaitAsync(Timeout));
        var submit = await Assert.ThrowsAsync<ControllerUnreachableException>(() => tasks.RunAsync(new CodeTask("1")).WaitAsync(Timeout));
        Assert.Contains("out of reach for", submit.Message, StringComparison.Ordinal);
    }
}

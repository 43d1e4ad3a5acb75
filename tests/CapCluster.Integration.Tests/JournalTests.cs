using System.Collections.Concurrent;
using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Hosting;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>
/// The task journal: a controller killed with thousands of tasks queued, running and done resumes them all when it
/// is restarted on the same folders, and the clients that were connected carry on; a journal that cannot be
/// written refuses submissions saying where, and loses nothing it acknowledged.
/// </summary>
public sealed class JournalTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private readonly ClusterDirectory cluster = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task ControllerKilledWith5000Tasks_RestartedOnItsPorts_TheSameClientGetsEveryResultOnce_AndANewClientFetchesThemById()
    {
        var ports = ClusterDirectory.PinnedPorts();
        var controller = await cluster.StartControllerAsync(ports);
        cluster.Start("capengine");
        cluster.Start("capengine");
        var capFile = cluster.CapFile(CapabilityInterfaces.Task);
        await using var tasks = await TaskClient.ConnectAsync(capFile).WaitAsync(Timeout);
        var seen = new ConcurrentDictionary<long, int>();
        using var stopFeed = new CancellationTokenSource();
        var feed = Task.Run(async () =>
        {
            await foreach (var outcome in tasks.ResultsAsync(stopFeed.Token))
            {
                seen.AddOrUpdate(outcome.TaskId, 1, (_, n) => n + 1);
            }
        });

        var batch = Enumerable.Range(0, 5000)
            .Select(i => (TaskDefinition)new CodeTask("System.Threading.Thread.Sleep(1); var y = x * 3;") { Push = new Dictionary<string, object?> { ["x"] = i }, Pull = ["y"] })
            .ToList();
        var ids = await tasks.RunAsync(batch).WaitAsync(Timeout);
        while ((await tasks.QueueStatusAsync().WaitAsync(Timeout)).Succeeded < 300)
        {
            await Task.Delay(20);
        }

        controller.Process.Kill();
        await controller.Process.WaitForExitAsync().WaitAsync(Timeout);
        var doneBeforeTheKill = seen.Count;
        Assert.InRange(doneBeforeTheKill, 1, 4900);

        await cluster.StartControllerAsync(ports);
        var outcomes = await tasks.BarrierAsync(ids).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(0, 5000).Select(i => i * 3), outcomes.Select(o => o.Get<int>("y")));
        Assert.Equal(ids, outcomes.Select(o => o.TaskId));
        await Task.Delay(500);
        await stopFeed.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => feed);
        Assert.Equal(5000, seen.Count);
        Assert.All(seen, s => Assert.Equal(1, s.Value));

        await using var fresh = await TaskClient.ConnectAsync(capFile).WaitAsync(Timeout);
        Assert.Equal(0, (await fresh.GetResultAsync(ids[0]).WaitAsync(Timeout)).Get<int>("y"));
        Assert.Equal(4999 * 3, (await fresh.GetResultAsync(ids[4999]).WaitAsync(Timeout)).Get<int>("y"));
        var next = await fresh.RunAsync(new CodeTask("var y = -1;") { Pull = ["y"] }).WaitAsync(Timeout);
        Assert.True(next > ids.Max(), $"a new task got id {next}, not after the journaled ones (up to {ids.Max()})");
        Assert.Equal(-1, (await fresh.GetResultAsync(next).WaitAsync(Timeout)).Get<int>("y"));
    }

    [Fact]
    public async Task DelegateTasksQueuedWhenTheControllerIsKilled_RunAfterTheRestart_FromTheClosureTheJournalKept()
    {
        var ports = ClusterDirectory.PinnedPorts();
        var controller = await cluster.StartControllerAsync(ports);
        var capFile = cluster.CapFile(CapabilityInterfaces.Task);
        var offset = 1000;
        List<long> ids;
        await using (var tasks = await TaskClient.ConnectAsync(capFile).WaitAsync(Timeout))
        {
            // No engine yet: every task waits in the journal, its function named by its closure id only (all but the first).
            ids = [.. await tasks.RunAsync([.. Enumerable.Range(0, 300).Select(i => i % 2 == 0
                ? (TaskDefinition)DelegateTask.Of((int x) => x + offset, i)
                : DelegateTask.Of((int x) => -x, i))]).WaitAsync(Timeout)];
        }

        controller.Process.Kill();
        await controller.Process.WaitForExitAsync().WaitAsync(Timeout);
        await cluster.StartControllerAsync(ports);
        cluster.Start("capengine");
        await using var again = await TaskClient.ConnectAsync(capFile).WaitAsync(Timeout);
        var outcomes = await again.BarrierAsync(ids).WaitAsync(Timeout);

        Assert.All(outcomes, o => Assert.Equal(CapCluster.Client.TaskStatus.Succeeded, o.Status));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => i % 2 == 0 ? i + offset : -i), outcomes.Select(o => o.Get<int>()));
    }

    [Fact]
    public async Task ControllerKilledDuringABurstOfSubmissions_RestartsWithEveryAcknowledgedTask()
    {
        var ports = ClusterDirectory.PinnedPorts();
        var controller = await cluster.StartControllerAsync(ports);
        var capFile = cluster.CapFile(CapabilityInterfaces.Task);
        var acknowledged = new ConcurrentQueue<long>();
        var killed = new TaskCompletionSource();
        await using (var tasks = await TaskClient.ConnectAsync(capFile, new ReconnectOptions { Timeout = TimeSpan.FromSeconds(1) }).WaitAsync(Timeout))
        {
            // Submissions of 2,500 follow each other until the controller dies, so that one is being journaled when it
            // does. (A fixed number of them could all be acknowledged before the kill lands: on a loaded machine this
            // loop can be late to see the first 10,000 by the time the rest take.)
            var submitting = Task.Run(async () =>
            {
                while (true)
                {
                    foreach (var id in await tasks.RunAsync([.. Enumerable.Range(0, 2500).Select(i => (TaskDefinition)new CodeTask("var y = 1;"))]))
                    {
                        acknowledged.Enqueue(id);
                    }
                }
            });
            while (acknowledged.Count < 10_000 && !submitting.IsCompleted)
            {
                await Task.Delay(1);
            }

            controller.Process.Kill();
            await controller.Process.WaitForExitAsync().WaitAsync(Timeout);
            await Assert.ThrowsAnyAsync<CapClusterException>(() => submitting.WaitAsync(Timeout));
        }

        Assert.True(acknowledged.Count >= 10_000, $"{acknowledged.Count} tasks acknowledged before the kill");
        await cluster.StartControllerAsync(ports);
        await using var again = await TaskClient.ConnectAsync(capFile).WaitAsync(Timeout);
        foreach (var id in acknowledged)
        {
            Assert.Equal(CapCluster.Client.TaskStatus.Queued, (await again.GetResultAsync(id, block: false).WaitAsync(Timeout)).Status);
        }

        var status = await again.QueueStatusAsync().WaitAsync(Timeout);
        Assert.InRange(status.Queued, acknowledged.Count, acknowledged.Count + 2500);
    }

    [Fact]
    public async Task ARestartWithoutTheJournal_SaysInItsBannerAndLogThatItLeavesTheEarlierRunsJournalAlone_AndWhatThatMeans()
    {
        var ports = ClusterDirectory.PinnedPorts();
        var controller = await cluster.StartControllerAsync(ports);
        await using (var tasks = await TaskClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.Task)).WaitAsync(Timeout))
        {
            await tasks.RunAsync(new CodeTask("1")).WaitAsync(Timeout);
        }

        controller.Process.Kill();
        await controller.Process.WaitForExitAsync().WaitAsync(Timeout);
        var withoutJournal = await cluster.StartControllerAsync([.. ports, "--no-journal"]);

        var banner = await withoutJournal.WaitForLineAsync("  task journal ", Timeout);
        Assert.Contains($"the earlier run's journal at {Path.Combine(cluster.Paths().BaseFolder, "tasks", "journal.db")} is left alone", banner, StringComparison.Ordinal);
        Assert.Contains("a later start with it runs its tasks again", banner, StringComparison.Ordinal);
        var log = string.Join('\n', LogLines.ReadFile(Path.Combine(cluster.Paths().LogFolder, $"capcontroller-{withoutJournal.Process.Id}.log")));
        Assert.Contains("a later start with the journal runs them again", log, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task FullJournalFolder_RefusesSubmissionsNamingTheJournal_AndLosesNothingItAcknowledged()
    {
        var disk = await cluster.MountTinyDiskAsync("tiny-journal", "4m");
        var journalFolder = disk.Folder;
        var ports = ClusterDirectory.PinnedPorts();
        var controller = await cluster.StartControllerAsync([.. ports, "--journal-folder", journalFolder]);
        var capFile = cluster.CapFile(CapabilityInterfaces.Task);
        var tasks = await TaskClient.ConnectAsync(capFile).WaitAsync(Timeout);
        var acknowledged = await tasks.RunAsync([.. Enumerable.Range(0, 50).Select(i => (TaskDefinition)new CodeTask($"var y = {i};") { Pull = ["y"] })]).WaitAsync(Timeout);

        disk.Fill();
        var big = new string('x', 256 * 1024);
        TaskRefusedException? refused = null;
        for (var attempt = 0; attempt < 20 && refused is null; attempt++)
        {
            try
            {
                // Large specs, so that the journal's last free pages are used up at once.
                await tasks.RunAsync(new CodeTask($"var s = \"{big}\";")).WaitAsync(Timeout);
            }
            catch (TaskRefusedException e)
            {
                refused = e;
            }
        }

        Assert.NotNull(refused);
        Assert.Contains(Path.Combine(journalFolder, "journal.db"), refused.Message);
        Assert.Contains("the disk is full", refused.Message);

        disk.Free();
        var afterSpace = await tasks.RunAsync(new CodeTask("var y = 99;") { Pull = ["y"] }).WaitAsync(Timeout);
        await tasks.DisposeAsync();

        controller.Process.Kill();
        await controller.Process.WaitForExitAsync().WaitAsync(Timeout);
        await cluster.StartControllerAsync([.. ports, "--journal-folder", journalFolder]);
        cluster.Start("capengine");
        await using var again = await TaskClient.ConnectAsync(capFile).WaitAsync(Timeout);
        var outcomes = await again.BarrierAsync([.. acknowledged, afterSpace]).WaitAsync(Timeout);
        Assert.Equal([.. Enumerable.Range(0, 50), 99], outcomes.Select(o => o.Get<int>("y")));
    }
}

using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;
using TaskStatus = CapCluster.Client.TaskStatus;

namespace CapCluster.Integration.Tests;

/// <summary>The task farm on 3 real engines.</summary>
public sealed class TaskTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private RunningCluster cluster = null!;
    private TaskClient tasks = null!;

    public async Task InitializeAsync()
    {
        cluster = await RunningCluster.StartAsync(3);
        tasks = await TaskClient.ConnectAsync(cluster.Directory.CapFile(CapabilityInterfaces.Task)).WaitAsync(Timeout);
    }

    public async Task DisposeAsync()
    {
        await tasks.DisposeAsync();
        await cluster.DisposeAsync();
    }

    [Fact]
    public async Task TenThousandCodeTasksAndTenThousandDelegateTasks_AllCorrect_EveryEngineUsed()
    {
        var code = Enumerable.Range(0, 10_000)
            .Select(i => (TaskDefinition)new CodeTask("var y = x * 2 + 1;") { Push = new Dictionary<string, object?> { ["x"] = i }, Pull = ["y"] })
            .ToList();
        var offset = 7;
        var functions = Enumerable.Range(0, 10_000)
            .Select(i => (TaskDefinition)DelegateTask.Of((int x) => x * 3 + offset, i))
            .ToList();

        var codeIds = await tasks.RunAsync(code).WaitAsync(Timeout);
        var functionIds = await tasks.RunAsync(functions).WaitAsync(Timeout);
        var codeResults = await tasks.BarrierAsync(codeIds).WaitAsync(Timeout);
        var functionResults = await tasks.BarrierAsync(functionIds).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(0, 10_000).Select(i => i * 2 + 1), codeResults.Select(r => r.Get<int>("y")));
        Assert.Equal(Enumerable.Range(0, 10_000).Select(i => i * 3 + 7), functionResults.Select(r => r.Get<int>()));
        Assert.Equal([0, 1, 2], codeResults.Concat(functionResults).Select(r => r.EngineId).Distinct().Order());
    }

    [Fact]
    public async Task TwoThousandSubmissionsAtOnce_OfEverySize_EachGetsItsOwnIds_AndOneDefinitionTwiceInABatchRunsTwice()
    {
        // Submissions of 1, 2 and 3 tasks made concurrently: their acceptances come back in many messages, each to be
        // matched to its batch.
        var submissions = Enumerable.Range(0, 2_000).Select(i => Task.Run(() =>
            tasks.RunAsync([.. Enumerable.Range(0, 1 + (i % 3)).Select(k => (TaskDefinition)DelegateTask.Of((int x) => x, (i * 10) + k))]))).ToList();
        var twice = DelegateTask.Of(() => 5);

        var ids = await Task.WhenAll(submissions).WaitAsync(Timeout);
        var repeated = await tasks.RunAsync([twice, twice]).WaitAsync(Timeout);
        var outcomes = await tasks.BarrierAsync([.. ids.SelectMany(i => i), .. repeated]).WaitAsync(Timeout);

        Assert.Equal(ids.Sum(i => i.Count) + 2, outcomes.Select(o => o.TaskId).Distinct().Count());
        Assert.Equal(
            Enumerable.Range(0, 2_000).SelectMany(i => Enumerable.Range(0, 1 + (i % 3)).Select(k => (i * 10) + k)),
            outcomes.Take(outcomes.Count - 2).Select(o => o.Get<int>()));
        Assert.Equal([5, 5], outcomes.TakeLast(2).Select(o => o.Get<int>()));
    }

    [Fact]
    public async Task Barrier_OnItsOwnTasks_TimesOutWhileOneRuns_AndOnAnotherClientsWaitsForTheSameResults()
    {
        var quick = await tasks.RunAsync(DelegateTask.Of(() => 6 * 7)).WaitAsync(Timeout);
        var slow = await tasks.RunAsync(new CodeTask("System.Threading.Thread.Sleep(3000); var done = 1;") { Pull = ["done"] }).WaitAsync(Timeout);

        // This client's own tasks: one wait for all, bounded by the timeout.
        var late = await Assert.ThrowsAsync<TimeoutException>(() => tasks.BarrierAsync([quick, slow], TimeSpan.FromMilliseconds(300)));
        Assert.Contains($"did not finish within 0.3s", late.Message, StringComparison.Ordinal);
        Assert.Contains($"task {slow}", late.Message, StringComparison.Ordinal);

        // Another client of the same capability does not own them: it asks the controller for them, and says which is late and what it does.
        await using var other = await TaskClient.ConnectAsync(cluster.Directory.CapFile(CapabilityInterfaces.Task)).WaitAsync(Timeout);
        var running = await Assert.ThrowsAsync<TimeoutException>(() => other.GetResultAsync(slow, timeout: TimeSpan.FromMilliseconds(300)));
        Assert.StartsWith($"task {slow} (running) did not finish within 0.3s", running.Message, StringComparison.Ordinal);
        var seen = await other.BarrierAsync([quick, slow], Timeout).WaitAsync(Timeout);
        var own = await tasks.BarrierAsync([quick, slow], Timeout).WaitAsync(Timeout);

        Assert.Equal([42, 1], own.Select(o => o.Value ?? o.Get<int>("done")));
        Assert.Equal([quick, slow], seen.Select(o => o.TaskId));
        Assert.Equal(own.Select(o => o.EngineId), seen.Select(o => o.EngineId));
    }

    [Fact]
    public async Task AfterChains_RunInOrder_FailedDependencyFailsDependents_CycleIsRefused()
    {
        await cluster.Client.ExecuteAsync("var order = new List<int>();").GetAsync(Timeout);
        // One engine keeps the log, so that order is observable: all chain tasks require it.
        await cluster.Client.SetPropertiesAsync(new Dictionary<string, string> { ["log"] = "yes" }, [1]).GetAsync(Timeout);
        var requires = new Dictionary<string, string> { ["log"] = "yes" };
        var first = new CodeTask("order.Add(1);") { Requires = requires };
        var second = new CodeTask("order.Add(2);") { Requires = requires };
        var third = new CodeTask("order.Add(3);") { Requires = requires };
        second.AfterInBatch.Add(first);
        third.AfterInBatch.Add(second);
        var ids = await tasks.RunAsync([third, second, first]).WaitAsync(Timeout);
        await tasks.BarrierAsync(ids).WaitAsync(Timeout);
        Assert.Equal([1, 2, 3], (await cluster.Client.PullAsync<List<int>>("order", [1]).GetAsync(Timeout))[0]);

        var failing = await tasks.RunAsync(new CodeTask("throw new InvalidOperationException(\"nope\");")).WaitAsync(Timeout);
        var dependent = await tasks.RunAsync(new CodeTask("1") { After = [failing] }).WaitAsync(Timeout);
        var outcome = await tasks.GetResultAsync(dependent, timeout: Timeout);
        Assert.Equal(TaskStatus.Failed, outcome.Status);
        Assert.Contains($"dependency {failing}", outcome.Failure);
        // A failed task has no values: asking for one says why it has none.
        var noValue = Assert.Throws<TaskFailedException>(() => outcome.Get<int>("y"));
        Assert.Contains($"dependency {failing}", noValue.Message, StringComparison.Ordinal);
        var succeeded = await tasks.GetResultAsync(ids[0], timeout: Timeout);
        Assert.Equal($"task {ids[0]} returned no value named 'y' (it returned none)", Assert.Throws<KeyNotFoundException>(() => succeeded.Get<int>("y")).Message);

        var a = new CodeTask("1");
        var b = new CodeTask("2");
        a.AfterInBatch.Add(b);
        b.AfterInBatch.Add(a);
        var refused = await Assert.ThrowsAsync<TaskRefusedException>(() => tasks.RunAsync([a, b]).WaitAsync(Timeout));
        Assert.Contains("cycle", refused.Message);
        var unknown = await Assert.ThrowsAsync<TaskRefusedException>(() => tasks.RunAsync(new CodeTask("1") { After = [999_999] }).WaitAsync(Timeout));
        Assert.Contains("999999", unknown.Message);
    }

    [Fact]
    public async Task Retries_FailTwiceThenSucceed_WithTwoRetries_WithOneTheRecoveryRuns()
    {
        // Engines share no state; they do share the file system, so attempts are counted in a file.
        var counter = Path.Combine(cluster.Directory.BaseFolder, "attempts-" + Guid.NewGuid().ToString("N"));
        var flaky = $"var n = System.IO.File.Exists(@\"{counter}\") ? int.Parse(System.IO.File.ReadAllText(@\"{counter}\")) : 0; System.IO.File.WriteAllText(@\"{counter}\", (n + 1).ToString()); if (n < 2) throw new Exception(\"attempt \" + n); var ok = n;";

        var succeeded = await tasks.GetResultAsync(await tasks.RunAsync(new CodeTask(flaky) { Retries = 2, Pull = ["ok"] }), timeout: Timeout);
        Assert.Equal(TaskStatus.Succeeded, succeeded.Status);
        Assert.Equal(3, succeeded.Attempts);
        Assert.Equal(2, succeeded.Get<int>("ok"));

        File.Delete(counter);
        var recovered = await tasks.GetResultAsync(await tasks.RunAsync(new CodeTask(flaky)
        {
            Retries = 1,
            Pull = ["ok"],
            RecoveryTask = new CodeTask("var ok = -1;") { Pull = ["ok"] },
        }), timeout: Timeout);
        Assert.True(recovered.Recovered);
        Assert.Equal(-1, recovered.Get<int>("ok"));
    }

    [Fact]
    public async Task KillNineOneEngine_WhileAThousandTasksRunWithOneRetry_AllSucceed()
    {
        var engines = await cluster.Client.GetEnginesAsync().WaitAsync(Timeout);
        var ids = await tasks.RunAsync([.. Enumerable.Range(0, 1000).Select(i => (TaskDefinition)new CodeTask("System.Threading.Thread.Sleep(2); var r = i * i;")
        {
            Push = new Dictionary<string, object?> { ["i"] = i },
            Pull = ["r"],
            Retries = 1,
        })]).WaitAsync(Timeout);

        await foreach (var first in tasks.ResultsAsync().WithCancellation(new CancellationTokenSource(Timeout).Token))
        {
            break; // tasks are running: now kill one engine
        }

        using (var kill = System.Diagnostics.Process.Start("kill", ["-9", engines[1].Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        var results = await tasks.BarrierAsync(ids).WaitAsync(Timeout);
        Assert.All(results, r => Assert.Equal(TaskStatus.Succeeded, r.Status));
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => i * i), results.Select(r => r.Get<int>("r")));
    }

    [Fact]
    public async Task AbortOfAQueuedTask_ItNeverRuns_OfARunningOne_SaysItRanToItsEnd()
    {
        var marker = Path.Combine(cluster.Directory.BaseFolder, "ran-" + Guid.NewGuid().ToString("N"));
        var blocker = await tasks.RunAsync(new CodeTask("System.Threading.Thread.Sleep(1000);")).WaitAsync(Timeout);
        var victim = await tasks.RunAsync(new CodeTask($"System.IO.File.WriteAllText(@\"{marker}\", \"ran\");") { After = [blocker] }).WaitAsync(Timeout);

        Assert.True(await tasks.AbortAsync(victim).WaitAsync(Timeout));

        Assert.Equal(TaskStatus.Aborted, (await tasks.GetResultAsync(victim, timeout: Timeout)).Status);
        await tasks.GetResultAsync(blocker, timeout: Timeout);
        Assert.False(File.Exists(marker));

        // An engine cannot stop running code: the result says the task ran on, and it did.
        var running = await tasks.RunAsync(new CodeTask($"System.Threading.Thread.Sleep(1500); System.IO.File.WriteAllText(@\"{marker}\", \"ran\");")).WaitAsync(Timeout);
        while ((await tasks.GetResultAsync(running, block: false).WaitAsync(Timeout)).Status != TaskStatus.Running)
        {
            await Task.Delay(20);
        }

        Assert.True(await tasks.AbortAsync(running).WaitAsync(Timeout));
        var aborted = await tasks.GetResultAsync(running, timeout: Timeout);
        Assert.Equal(TaskStatus.Aborted, aborted.Status);
        Assert.Contains("which ran it to its end (an engine cannot stop running code)", aborted.Failure, StringComparison.Ordinal);
        Assert.True(File.Exists(marker));
    }

    [Fact]
    public async Task SecondClientWithACopiedTaskCap_FetchesAResultByIdTheFirstSubmitted()
    {
        var copy = Path.Combine(cluster.Directory.BaseFolder, "collaborator-task.cap");
        File.Copy(cluster.Directory.CapFile(CapabilityInterfaces.Task), copy);
        var id = await tasks.RunAsync(new CodeTask("var answer = 6 * 7;") { Pull = ["answer"] }).WaitAsync(Timeout);

        await using var second = await TaskClient.ConnectAsync(copy).WaitAsync(Timeout);
        var outcome = await second.GetResultAsync(id, timeout: Timeout);

        Assert.Equal(42, outcome.Get<int>("answer"));
        var status = await second.QueueStatusAsync().WaitAsync(Timeout);
        Assert.True(status.Succeeded >= 1);

        // Disposing twice (here, and again where `await using` ends) does nothing the second time.
        await second.DisposeAsync();
    }

    [Fact]
    public async Task MapOverTasks_KeepsInputOrder_AndClearForgetsResults()
    {
        var factor = 2.5;
        var mapped = await tasks.MapAsync((int x) => x * factor, Enumerable.Range(0, 500), chunkSize: 37).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(0, 500).Select(x => x * 2.5), mapped);

        var awaited = await tasks.MapAsync(async (int x) => { await Task.Yield(); return x * factor; }, Enumerable.Range(0, 20), chunkSize: 6).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(0, 20).Select(x => x * 2.5), awaited);

        var viaCode = await tasks.MapAsync<int, int>("x * x", Enumerable.Range(0, 50), chunkSize: 7).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(0, 50).Select(x => x * x), viaCode);

        var id = await tasks.RunAsync(new CodeTask("var z = 1;") { Pull = ["z"] }).WaitAsync(Timeout);
        await tasks.GetResultAsync(id, timeout: Timeout);
        Assert.True(await tasks.ClearAsync([id]).WaitAsync(Timeout) == 1);
        var gone = await Assert.ThrowsAsync<ControllerCallException>(() => tasks.GetResultAsync(id, timeout: Timeout));
        Assert.Contains("cleared or evicted", gone.Message);
    }

    [Fact]
    public async Task DelegatesHeldInCapturedVariables_ShipWithTheLambdaThatCallsThem()
    {
        var offset = 7;
        Func<int, int> shift = x => x + offset;
        Func<int, int> twiceShifted = x => shift(shift(x));
        Func<int, int>? unset = null;

        var mapped = await tasks.MapAsync((int x) => twiceShifted(x) * 10 + (unset is null ? 1 : 2), Enumerable.Range(0, 100), chunkSize: 9).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(0, 100).Select(x => (x + 14) * 10 + 1), mapped);
    }

    [Fact]
    public async Task Timeout_FailsATaskThatRunsTooLong_ClearBeforeGivesACleanNamespace()
    {
        var slow = await tasks.RunAsync(new CodeTask("System.Threading.Thread.Sleep(3000);") { Timeout = TimeSpan.FromMilliseconds(300) }).WaitAsync(Timeout);
        var timedOut = await tasks.GetResultAsync(slow, timeout: Timeout);
        Assert.Equal(TaskStatus.Failed, timedOut.Status);
        Assert.Contains("timed out", timedOut.Failure);

        await cluster.Client.ExecuteAsync("var leftover = 1;").GetAsync(Timeout);
        var clean = await tasks.GetResultAsync(await tasks.RunAsync(new CodeTask("var seen = leftover;") { ClearBefore = true }), timeout: Timeout);
        Assert.Equal(TaskStatus.Failed, clean.Status);
        Assert.Contains("leftover", clean.Error!.Message);
    }
}

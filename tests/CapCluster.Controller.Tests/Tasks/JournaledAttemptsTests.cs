using CapCluster.Controller.Internal.Tasks;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;
using TaskFarm = CapCluster.Controller.Internal.Tasks.TaskFarm;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// A task's failed attempts and lost engines are journaled: a restarted controller resumes it with them, so a task that
/// fails or ends its engine every time does not get its retries again at each restart. The attempt the old farm was
/// running when it was "killed" (its engine never answers) is not charged.
/// </summary>
public sealed class JournaledAttemptsTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new(journaled: true);

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task AFailedAttempt_SurvivesARestart_TheTaskShowsIt_AndGetsOnlyTheRetriesLeft()
    {
        var (restarted, client, id) = await FailedOnceThenRestartedAsync(retries: 2);
        var status = await client.StatusAsync(id);
        Assert.Equal((TaskState.Queued, 1), (status.State, status.Attempts));

        var engine = harness.AddEngine();
        for (var attempt = 2; attempt <= 3; attempt++)
        {
            var (next, code) = await engine.NextBatchAsync();
            Assert.Equal(["flaky"], code);
            engine.Answer(next, FakeEngine.Raised("System.InvalidOperationException", $"attempt {attempt}"));
        }

        var result = await FinishedAsync(restarted, client, id);
        Assert.Equal((TaskState.Failed, 3, "attempt 3"), (result.State, result.Attempts, result.Error.Message));
        Assert.False(engine.TryTakeSentWork(out _));
    }

    [Fact]
    public async Task RetriesUsedUpAcrossARestart_TheTaskEndsFailed_AndIsNotRunAgain()
    {
        var (restarted, client, id) = await FailedOnceThenRestartedAsync(retries: 1);
        var engine = harness.AddEngine();
        var (last, code) = await engine.NextBatchAsync();
        Assert.Equal(["flaky"], code);
        engine.Answer(last, FakeEngine.Raised("System.InvalidOperationException", "after the restart"));

        var result = await FinishedAsync(restarted, client, id);
        Assert.Equal((TaskState.Failed, 2, "after the restart"), (result.State, result.Attempts, result.Error.Message));
        Assert.False(engine.TryTakeSentWork(out _));
    }

    [Fact]
    public async Task ATaskThatEndsItsEngine_LosesItsSecondEngineAfterARestart_AndFails_WhateverRetriesItAskedFor()
    {
        var first = harness.AddEngine();
        var id = (await new FarmClient(harness.Farm, harness.Capability('a')).SubmitJournaledAsync(Code(1, "Environment.Exit(3);", retries: 5)))[0];
        await first.NextBatchAsync();
        first.Lose("killed by its task");
        await harness.FlushJournalAsync().Within();

        var restarted = Restart();
        var client = new FarmClient(restarted, harness.Capability('a'));
        var second = harness.AddEngine();
        await second.NextBatchAsync();
        var third = harness.AddEngine();
        second.Lose("killed by its task");

        var result = await FinishedAsync(restarted, client, id);
        Assert.Equal((TaskState.Failed, 2), (result.State, result.Attempts));
        Assert.Contains("the second engine lost while it ran this task", result.Failure);
        Assert.False(third.TryTakeSentWork(out _));
    }

    [Fact]
    public async Task RestartedWithFewerEngineLossesAllowed_ATaskThatHadLostThatMany_FailsAtOnce()
    {
        var lenient = new TaskFarmOptions { MaxEngineLosses = 3 };
        var farm = harness.NewFarm(lenient);
        var id = (await new FarmClient(farm, harness.Capability('a')).SubmitJournaledAsync(Code(1, "Environment.Exit(3);", retries: 5)))[0];
        foreach (var _ in Enumerable.Range(0, 2))
        {
            var engine = harness.AddEngine();
            await engine.NextBatchAsync();
            engine.Lose("killed by its task");
        }

        await harness.FlushJournalAsync().Within();

        var restarted = Restart();
        var client = new FarmClient(restarted, harness.Capability('a'));
        var spare = harness.AddEngine();

        var result = await FinishedAsync(restarted, client, id);
        Assert.Equal(TaskState.Failed, result.State);
        Assert.Contains("second engine lost while it ran this task before the controller restarted", result.Failure);
        Assert.False(spare.TryTakeSentWork(out _));
    }

    /// <summary>
    /// A task that raised on its first attempt, whose retry was running when the controller was lost (its engine never
    /// answers); then the restarted farm, its submitter's client there, and the task's id.
    /// </summary>
    private async Task<(TaskFarm Farm, FarmClient Client, long Id)> FailedOnceThenRestartedAsync(int retries)
    {
        var first = harness.AddEngine();
        var id = (await new FarmClient(harness.Farm, harness.Capability('a')).SubmitJournaledAsync(Code(1, "flaky", retries: retries)))[0];
        var (work, _) = await first.NextBatchAsync();
        first.Answer(work, FakeEngine.Raised("System.InvalidOperationException", "attempt 1"));
        await first.NextBatchAsync();
        await harness.FlushJournalAsync().Within();

        var restarted = Restart();
        return (restarted, new FarmClient(restarted, harness.Capability('a')), id);
    }

    /// <summary>A farm as a restarted controller makes it, on the same journal, with the default options.</summary>
    private TaskFarm Restart()
    {
        var farm = harness.NewFarm(new TaskFarmOptions());
        farm.Restore();
        return farm;
    }

    /// <summary>A restored task's result: its submitter's stream ended with the old controller, so it is asked for.</summary>
    private static async Task<TaskResult> FinishedAsync(TaskFarm farm, FarmClient client, long id) =>
        (await farm.GetResultsAsync(client.Capability, [id], TimeSpan.FromMinutes(1), CancellationToken.None).Within())[0];
}

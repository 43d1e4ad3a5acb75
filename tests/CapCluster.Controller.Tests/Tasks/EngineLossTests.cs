using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// An engine lost while it runs a batch: each of its unfinished tasks is treated as a failed attempt (the rule in
/// TaskFarm.OnBatchDone: a lost engine counts against the task's retries), so with a retry left it runs again on
/// another engine, and without one it fails saying which engine was lost.
/// </summary>
public sealed class EngineLossTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new();

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task EngineLost_WithARetryLeft_TheTaskRunsOnAnotherEngine()
    {
        var doomed = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var id = client.SubmitAccepted(Code(1, "work", retries: 1))[0];
        await doomed.NextBatchAsync();
        var survivor = harness.AddEngine();

        doomed.Lose("killed by the test");

        var (work, code) = await survivor.NextBatchAsync();
        Assert.Equal(["work"], code);
        survivor.Answer(work, FakeEngine.Ok("second engine"));
        var result = await client.ResultAsync(id);
        Assert.Equal(TaskState.Succeeded, result.State);
        Assert.Equal(survivor.Id, result.EngineId);
        Assert.Equal(2, result.Attempts);
    }

    [Fact]
    public async Task EngineLost_WithoutRetries_TheTaskFailsNamingTheEngine()
    {
        var doomed = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var id = client.SubmitAccepted(Code(1, "work"))[0];
        await doomed.NextBatchAsync();
        harness.AddEngine();

        doomed.Lose("killed by the test");

        var result = await client.ResultAsync(id);
        Assert.Equal(TaskState.Failed, result.State);
        Assert.Equal(1, result.Attempts);
        Assert.Contains($"engine {doomed.Id}", result.Failure);
        Assert.Contains("killed by the test", result.Failure);
        Assert.Null(result.Error);
    }

    [Fact]
    public async Task EngineLost_WithNoOtherEngine_ItsTasksWaitForTheNextOne()
    {
        var doomed = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = client.SubmitAccepted(Code(1, "first", retries: 1), Code(2, "second", retries: 1));
        await doomed.NextBatchAsync();

        doomed.Lose("killed by the test");
        Assert.Equal(TaskState.Queued, (await client.StatusAsync(ids[0])).State);
        Assert.Equal(TaskState.Queued, (await client.StatusAsync(ids[1])).State);
        var survivor = harness.AddEngine();

        Assert.Equal(["first", "second"], (await survivor.RunTasksAsync(2)).Order());
        foreach (var id in ids)
        {
            var result = await client.ResultAsync(id);
            Assert.Equal(TaskState.Succeeded, result.State);
            Assert.Equal(survivor.Id, result.EngineId);
        }
    }

    [Fact]
    public async Task ATaskWhoseEngineIsLostTwice_FailsWhateverRetriesItAskedFor_AndTakesNoThirdEngine()
    {
        var first = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var id = client.SubmitAccepted(Code(1, "Environment.Exit(3);", retries: 5))[0];
        await first.NextBatchAsync();
        var second = harness.AddEngine();

        first.Lose("killed by its task");
        Assert.Equal(["Environment.Exit(3);"], (await second.NextBatchAsync()).Code);
        var third = harness.AddEngine();
        second.Lose("killed by its task");

        var result = await client.ResultAsync(id);
        Assert.Equal(TaskState.Failed, result.State);
        Assert.Equal(2, result.Attempts);
        Assert.Contains("killed by its task: the second engine lost while it ran this task, which may be what ends them", result.Failure);
        Assert.Contains("--max-engine-losses", result.Failure);
        Assert.False(third.TryTakeSentWork(out _));
    }
}

using CapCluster.Controller.Internal.Tasks;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// The farm keeps at most <see cref="TaskFarmOptions.MaxFinishedResults"/> finished results: beyond it the oldest
/// finished one is evicted (by count, in the order they finished), and asking for it says the controller keeps only
/// that many. Unfinished tasks are never evicted.
/// </summary>
public sealed class EvictionTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new(new TaskFarmOptions { MaxFinishedResults = 2 });

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task BeyondTheLimit_TheOldestFinishedResultIsEvicted()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = client.SubmitAccepted(Code(1, "one"), Code(2, "two"), Code(3, "three"));
        var (work, code) = await engine.NextBatchAsync();
        Assert.Equal(3, code.Count);
        engine.Answer(work, FakeEngine.Ok(), FakeEngine.Ok(), FakeEngine.Ok());
        await client.ResultAsync(ids[2]);

        var evicted = await Assert.ThrowsAsync<TaskNotHeldException>(() => client.StatusAsync(ids[0]));
        Assert.Contains("the controller keeps the last 2 finished results", evicted.Message);
        Assert.Equal($"task {ids[0]} refused to capability {client.Capability.Id}: it was cleared, evicted or held by an earlier run", evicted.AuditReason);
        Assert.Equal(TaskState.Succeeded, (await client.StatusAsync(ids[1])).State);
        Assert.Equal(TaskState.Succeeded, (await client.StatusAsync(ids[2])).State);
    }

    [Fact]
    public async Task UnfinishedTasks_AreNeverEvicted()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var unrunnable = Code(1, "needs a gpu");
        unrunnable.Spec.Requires["gpu"] = "yes"; // no engine has it: it stays queued
        var waiting = client.SubmitAccepted(unrunnable)[0];

        var ids = client.SubmitAccepted(Code(2, "one"), Code(3, "two"), Code(4, "three"));
        var (work, _) = await engine.NextBatchAsync();
        engine.Answer(work, FakeEngine.Ok(), FakeEngine.Ok(), FakeEngine.Ok());
        await client.ResultAsync(ids[2]);

        Assert.Equal(TaskState.Queued, (await client.StatusAsync(waiting)).State);
        await Assert.ThrowsAsync<TaskNotHeldException>(() => client.StatusAsync(ids[0]));
    }
}

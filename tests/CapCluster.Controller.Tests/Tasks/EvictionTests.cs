using CapCluster.Controller.Internal.Tasks;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// The farm keeps at most <see cref="TaskFarmOptions.MaxFinishedResults"/> finished results: beyond it the oldest
/// finished one of the capability holding the most is evicted (by count, in the order they finished), and asking for
/// it says the controller keeps only that many. Unfinished tasks are never evicted; a holder's flood evicts its own
/// results, not another's.
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
        Assert.Equal(["one", "two", "three"], await engine.RunTasksAsync(3)); // they finish in this order
        await client.ResultAsync(ids[2]);

        var evicted = await Assert.ThrowsAsync<TaskNotHeldException>(() => client.StatusAsync(ids[0]));
        Assert.Contains("the controller keeps 2 finished results in all", evicted.Message);
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
        unrunnable.Spec.Requires.Add(new Requirement { Name = "gpu", Value = "yes" }); // no engine has it: it stays queued
        var waiting = client.SubmitAccepted(unrunnable)[0];

        var ids = client.SubmitAccepted(Code(2, "one"), Code(3, "two"), Code(4, "three"));
        Assert.Equal(["one", "two", "three"], await engine.RunTasksAsync(3));
        await client.ResultAsync(ids[2]);

        Assert.Equal(TaskState.Queued, (await client.StatusAsync(waiting)).State);
        await Assert.ThrowsAsync<TaskNotHeldException>(() => client.StatusAsync(ids[0]));
    }

    [Fact]
    public async Task AHolderRunningPastTheLimit_EvictsItsOwnResults_NotThoseOfAHolderWithFewer()
    {
        var engine = harness.AddEngine();
        var owner = new FarmClient(harness.Farm, harness.Capability('a'));
        var flooder = new FarmClient(harness.Farm, harness.Capability('b'));
        var kept = owner.SubmitAccepted(Code(1, "mine"))[0];
        await engine.RunTasksAsync(1);
        await owner.ResultAsync(kept);

        // Three results of another capability, past the limit of 2: the newest results in all are the flooder's, yet
        // its own oldest go, one by one, and the owner's older one stays.
        var flood = flooder.SubmitAccepted(Code(2, "one"), Code(3, "two"), Code(4, "three"));
        Assert.Equal(["one", "two", "three"], await engine.RunTasksAsync(3));
        await flooder.ResultAsync(flood[2]);

        Assert.Equal(TaskState.Succeeded, (await owner.StatusAsync(kept)).State);
        await Assert.ThrowsAsync<TaskNotHeldException>(() => flooder.StatusAsync(flood[0]));
        await Assert.ThrowsAsync<TaskNotHeldException>(() => flooder.StatusAsync(flood[1]));
        Assert.Equal(TaskState.Succeeded, (await flooder.StatusAsync(flood[2])).State);
    }

    [Fact]
    public async Task ClearedResults_NoLongerCount_ForTheLimitOrForWhoHoldsTheMost()
    {
        var engine = harness.AddEngine();
        var owner = new FarmClient(harness.Farm, harness.Capability('a'));
        var other = new FarmClient(harness.Farm, harness.Capability('b'));
        var mine = owner.SubmitAccepted(Code(1, "one"), Code(2, "two"));
        await engine.RunTasksAsync(2);
        await owner.ResultAsync(mine[1]);
        await harness.Farm.ClearAsync(owner.Capability, [mine[0]]);

        // One result each: the limit is not passed, nothing is evicted.
        var theirs = other.SubmitAccepted(Code(3, "three"))[0];
        await engine.RunTasksAsync(1);
        await other.ResultAsync(theirs);
        Assert.Equal(TaskState.Succeeded, (await owner.StatusAsync(mine[1])).State);
        Assert.Equal(TaskState.Succeeded, (await other.StatusAsync(theirs)).State);
    }
}

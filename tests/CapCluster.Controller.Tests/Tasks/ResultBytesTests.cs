using CapCluster.Controller.Internal.Tasks;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// A capability may have the farm hold <see cref="TaskFarmOptions.MaxResultBytesPerCapability"/> bytes of finished
/// results: beyond it its own oldest results are evicted (its newest is kept whatever its size), and nobody else's.
/// </summary>
public sealed class ResultBytesTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new(new TaskFarmOptions { MaxResultBytesPerCapability = 3_500 });

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task ACapabilityPastItsResultBytes_LosesItsOwnOldest_AnotherKeepsItsResults()
    {
        var engine = harness.AddEngine();
        var owner = new FarmClient(harness.Farm, harness.Capability('a'));
        var large = new FarmClient(harness.Farm, harness.Capability('b'));
        var mine = owner.SubmitAccepted(Code(1, "mine"))[0];
        await engine.RunTasksAsync(FakeEngine.Ok(new string('a', 1_000)));
        await owner.ResultAsync(mine);

        // Four results of about 1,000 bytes each: the fourth takes the capability past 3,500 bytes, so its first goes.
        var theirs = large.SubmitAccepted(Code(2, "one"), Code(3, "two"), Code(4, "three"), Code(5, "four"));
        Assert.Equal(["one", "two", "three", "four"], await engine.RunTasksAsync([.. Enumerable.Range(0, 4).Select(_ => FakeEngine.Ok(new string('b', 1_000)))]));
        await large.ResultAsync(theirs[3]);

        await Assert.ThrowsAsync<TaskNotHeldException>(() => large.StatusAsync(theirs[0]));
        foreach (var id in theirs.Skip(1))
        {
            Assert.Equal(TaskState.Succeeded, (await large.StatusAsync(id)).State);
        }

        Assert.Equal(new string('a', 1_000), (await owner.StatusAsync(mine)).Stdout);
    }

    [Fact]
    public async Task AResultLargerThanTheBytesAllowed_IsKept_UntilTheNextOne()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var huge = client.SubmitAccepted(Code(1, "huge"))[0];
        var (work, _) = await engine.NextBatchAsync();
        engine.Answer(work, FakeEngine.Ok(new string('h', 10_000)));
        await client.ResultAsync(huge);
        Assert.Equal(TaskState.Succeeded, (await client.StatusAsync(huge)).State);

        var next = client.SubmitAccepted(Code(2, "small"))[0];
        (work, _) = await engine.NextBatchAsync();
        engine.Answer(work, FakeEngine.Ok("small"));
        await client.ResultAsync(next);
        await Assert.ThrowsAsync<TaskNotHeldException>(() => client.StatusAsync(huge));
        Assert.Equal("small", (await client.StatusAsync(next)).Stdout);
    }

    [Fact]
    public async Task ClearedResults_GiveTheirBytesBack()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var first = client.SubmitAccepted(Code(1, "one"), Code(2, "two"));
        await engine.RunTasksAsync(FakeEngine.Ok(new string('x', 1_000)), FakeEngine.Ok(new string('y', 1_000)));
        await client.ResultAsync(first[1]);
        await harness.Farm.ClearAsync(client.Capability, [first[0], first[1]]);

        // Two more of 1,000 bytes: under 3,500 with the cleared ones given back, so both stay.
        var second = client.SubmitAccepted(Code(3, "three"), Code(4, "four"));
        await engine.RunTasksAsync(FakeEngine.Ok(new string('z', 1_000)), FakeEngine.Ok(new string('w', 1_000)));
        await client.ResultAsync(second[1]);
        Assert.Equal(TaskState.Succeeded, (await client.StatusAsync(second[0])).State);
        Assert.Equal(TaskState.Succeeded, (await client.StatusAsync(second[1])).State);
    }
}

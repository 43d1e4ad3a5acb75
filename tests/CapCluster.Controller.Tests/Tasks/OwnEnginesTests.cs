using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// Engines that serve one task capability (their engine capability was made with <c>--serves</c>) run only the tasks of
/// that capability's family; a capability with engines of its own (<c>--own-engines</c>) has its tasks run only there, so
/// its code never shares an engine process with another holder's tasks.
/// </summary>
public sealed class OwnEnginesTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new();

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task AHolderWithEnginesOfItsOwn_WaitsForThem_ItsTasksNeverGoToASharedEngine()
    {
        var shared = harness.AddEngine();
        var alice = new FarmClient(harness.Farm, harness.Capability('a', ownEngines: true));
        var owner = new FarmClient(harness.Farm, harness.Capability('o'));

        var hers = alice.SubmitAccepted(Code(1, "alice's"));
        owner.SubmitAccepted(Code(1, "owner's"));

        // The idle shared engine takes the owner's task, not hers, which waits.
        Assert.Equal(["owner's"], (await shared.NextBatchAsync()).Code);
        Assert.False(shared.TryTakeSentWork(out _));
        Assert.Equal(TaskState.Queued, (await alice.StatusAsync(hers[0])).State);
        Assert.Equal(0, harness.Farm.Status(alice.Capability).Engines);

        var own = harness.AddEngine(serves: alice.Capability.Id);
        Assert.Equal(1, harness.Farm.Status(alice.Capability).Engines);
        Assert.Equal(1, harness.Farm.Status(owner.Capability).Engines);
        Assert.Equal(["alice's"], (await own.NextBatchAsync()).Code);
        Assert.Equal(TaskState.Running, (await alice.StatusAsync(hers[0])).State);
    }

    [Fact]
    public async Task AnEngineThatServesAHolder_RunsOnlyTheTasksOfItsFamily()
    {
        var aliceRecord = harness.Capability('a', ownEngines: true);
        var bobRecord = harness.Capability('b', parent: aliceRecord);
        var alices = harness.AddEngine(serves: aliceRecord.Id);
        var bobs = harness.AddEngine(serves: bobRecord.Id);
        var owner = new FarmClient(harness.Farm, harness.Capability('o'));
        var alice = new FarmClient(harness.Farm, aliceRecord);
        var bob = new FarmClient(harness.Farm, bobRecord);

        // The owner's task waits: every engine here serves someone else.
        var owners = owner.SubmitAccepted(Code(1, "owner's"));
        Assert.False(alices.TryTakeSentWork(out _));
        Assert.False(bobs.TryTakeSentWork(out _));
        Assert.Equal(TaskState.Queued, (await owner.StatusAsync(owners[0])).State);

        // Alice's tasks run on her engines only, not on those of Bob, whom she derived; Bob's (his capability has her
        // own engines too) run on his or hers.
        alice.SubmitAccepted(Code(1, "alice's"));
        Assert.Equal(["alice's"], (await alices.NextBatchAsync()).Code);
        Assert.False(bobs.TryTakeSentWork(out _));
        bob.SubmitAccepted(Code(1, "bob's"));
        Assert.Equal(["bob's"], (await bobs.NextBatchAsync()).Code);

        var shared = harness.AddEngine();
        Assert.Equal(["owner's"], (await shared.NextBatchAsync()).Code);
    }
}

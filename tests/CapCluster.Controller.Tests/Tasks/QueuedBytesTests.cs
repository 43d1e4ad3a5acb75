using CapCluster.Controller.Internal.Tasks;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// A capability may have <see cref="TaskFarmOptions.MaxQueuedBytesPerCapability"/> bytes of unfinished tasks at the
/// farm: past it its submissions are refused, saying so; another capability's are not; what finishes (run, aborted,
/// waiting in the journal as a run of ids or not) gives its bytes back.
/// </summary>
public sealed class QueuedBytesTests : IAsyncDisposable
{
    private const long Max = 5_000;
    private readonly FarmHarness harness = new(new TaskFarmOptions { MaxQueuedBytesPerCapability = Max, MaxQueuedSpecBytesInMemory = 0, BatchSize = 64 }, journaled: true);

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    private static SubmitTask Sized(long clientRef) => Code(clientRef, new string('x', 900));

    [Fact]
    public async Task PastItsBytes_ACapabilityIsRefused_AnotherIsNot_AndFinishedTasksGiveTheirBytesBack()
    {
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var answers = client.Submit([.. Enumerable.Range(1, 8).Select(i => Sized(i))]);

        // About 910 bytes each: five fit under 5,000, the rest are refused, naming the option.
        var accepted = answers.Where(a => a.Refused.Length == 0).Select(a => a.TaskId).ToList();
        Assert.Equal(5, accepted.Count);
        Assert.All(answers.Skip(5), a => Assert.Contains("--max-queued-bytes", a.Refused, StringComparison.Ordinal));
        Assert.InRange(harness.Farm.UnfinishedBytesOf(client.Capability.Id), 4_000, Max);

        var other = new FarmClient(harness.Farm, harness.Capability('b'));
        var theirs = other.SubmitAccepted(Sized(1));

        var engine = harness.AddEngine();
        await engine.RunTasksAsync(accepted.Count + theirs.Count);
        await client.ResultAsync(accepted[^1]);
        await other.ResultAsync(theirs[0]);
        Assert.Equal(0, harness.Farm.UnfinishedBytesOf(client.Capability.Id));
        Assert.Equal(0, harness.Farm.UnfinishedBytesOf(other.Capability.Id));
        client.SubmitAccepted([.. Enumerable.Range(1, 5).Select(i => Sized(i))]);
    }

    [Fact]
    public async Task TasksWaitingAsARunOfIds_GiveTheirBytesBack_WhenTheyRun_OrAreAborted()
    {
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = await client.SubmitJournaledAsync([.. Enumerable.Range(1, 100).Select(i => Code(i, $"task {i}"))]);
        Assert.Equal(1, harness.Farm.SpilledRuns);
        var charged = harness.Farm.UnfinishedBytesOf(client.Capability.Id);
        Assert.True(charged > 0);

        // One aborted from the middle of the run (its entry is made then, its spec never read), the rest run.
        Assert.Equal([ids[40]], await harness.Farm.AbortAsync(client.Capability, [ids[40]]).Within());
        Assert.True(harness.Farm.UnfinishedBytesOf(client.Capability.Id) < charged);

        var engine = harness.AddEngine();
        await engine.RunTasksAsync(99);

        await client.ResultAsync(ids[^1]);
        Assert.Equal(0, harness.Farm.UnfinishedBytesOf(client.Capability.Id));
    }

    [Fact]
    public async Task TasksAbortedFromARunOfIds_AndClearedAtOnce_StillGiveTheirBytesBack()
    {
        // An entry a run made learns its size from its spec in the journal, which a clear deletes: the size must be read
        // before the clear reaches the journal, or the charge stays for ever.
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = await client.SubmitJournaledAsync([.. Enumerable.Range(1, 100).Select(i => Code(i, $"task {i}"))]);
        Assert.Equal(1, harness.Farm.SpilledRuns);
        var charged = harness.Farm.UnfinishedBytesOf(client.Capability.Id);

        var aborted = ids.Skip(10).Take(80).ToList();
        Assert.Equal(aborted, await harness.Farm.AbortAsync(client.Capability, aborted).Within());
        Assert.Equal(80, await harness.Farm.ClearAsync(client.Capability, aborted).Within());
        var left = harness.Farm.UnfinishedBytesOf(client.Capability.Id);
        Assert.InRange(left, 1, charged / 4);

        var engine = harness.AddEngine();
        await engine.RunTasksAsync(20);

        await client.ResultAsync(ids[^1]);
        Assert.Equal(0, harness.Farm.UnfinishedBytesOf(client.Capability.Id));
    }
}

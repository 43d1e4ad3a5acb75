using CapCluster.Controller.Internal.Tasks;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// The ready tasks of different task capabilities are served in turn: a holder who queued thousands of tasks delays
/// another holder's tasks by a share of one batch, not by its thousands; each holder's own tasks still run in the
/// order it submitted them, in memory and as runs waiting in the journal alike.
/// </summary>
public sealed class FairShareTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new();

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task AHolderWhoQueuedThousands_DelaysAnothersTasks_ByAShareOfOneBatch()
    {
        var engine = await harness.AddAnsweredEngineAsync();
        var flood = new FarmClient(harness.Farm, harness.Capability('a'));
        flood.SubmitAccepted([.. Enumerable.Range(1, 3000).Select(i => Code(i, $"a{i}"))]);

        // Two batches of the flood went to the engine (the second waits there for the first's answer).
        var (first, firstCode) = await engine.NextBatchAsync();
        var other = new FarmClient(harness.Farm, harness.Capability('b'));
        var ids = other.SubmitAccepted(Code(1, "b1"), Code(2, "b2"));
        engine.Answer(first, [.. firstCode.Select(_ => FakeEngine.Ok())]);
        var (second, secondCode) = await engine.NextBatchAsync();
        Assert.All(firstCode.Concat(secondCode), code => Assert.StartsWith("a", code, StringComparison.Ordinal));

        // The batch after them holds the other holder's tasks, beside its share of the flood.
        Assert.Equal(TaskState.Running, (await other.StatusAsync(ids[1])).State);
        engine.Answer(second, [.. secondCode.Select(_ => FakeEngine.Ok())]);
        var (_, third) = await engine.NextBatchAsync();
        Assert.Contains("b1", third);
        Assert.Contains("b2", third);
        Assert.Contains(third, code => code.StartsWith('a'));
    }

    [Fact]
    public async Task HoldersWhoseTasksWaitInTheJournal_AreServedInTurn_EachInItsOwnOrder()
    {
        await using var journaled = new FarmHarness(new TaskFarmOptions { MaxQueuedSpecBytesInMemory = 0, BatchSize = 64 }, journaled: true);
        var first = new FarmClient(journaled.Farm, journaled.Capability('a'));
        var second = new FarmClient(journaled.Farm, journaled.Capability('b'));
        await first.SubmitJournaledAsync([.. Enumerable.Range(0, 300).Select(i => Code(i + 1, $"a{i}"))]);
        await second.SubmitJournaledAsync([.. Enumerable.Range(0, 300).Select(i => Code(i + 1, $"b{i}"))]);
        Assert.Equal(2, journaled.Farm.SpilledRuns);

        var engine = journaled.AddEngine();
        var sent = await engine.RunTasksAsync(600);

        // A fresh engine takes one task a batch until it answered one, then 64, half from each holder: each had half of
        // the first 130 sent, not the first holder all.
        Assert.Equal(65, sent.Take(130).Count(code => code.StartsWith('b')));
        Assert.Equal([.. Enumerable.Range(0, 300).Select(i => $"a{i}")], sent.Where(code => code.StartsWith('a')));
        Assert.Equal([.. Enumerable.Range(0, 300).Select(i => $"b{i}")], sent.Where(code => code.StartsWith('b')));
    }

    [Fact]
    public void TheReadyQueue_GivesEachHolderAnEqualShare_AndBeginsTheNextTakeWithTheNextHolder()
    {
        var queue = new ReadyQueue();
        var holders = "abc".Select(letter => new TaskOwner([harness.Capability(letter)])).ToArray();
        var id = 0L;
        foreach (var holder in holders)
        {
            for (var i = 0; i < 10; i++)
            {
                queue.AddLast(new TaskEntry(++id, new TaskSpec(), holder, null, 0));
            }
        }

        // One holder's share it cannot use goes to the others: c's tasks do not fit here.
        Assert.Equal([1, 2, 11, 12, 3, 13], queue.Take(6, _ => true, entry => entry.Owner != holders[2]).Select(e => e.Id));

        // The next take begins with the holder after the one the last began with, a share each.
        Assert.Equal([14, 21, 4], queue.Take(3, _ => true, _ => true).Select(e => e.Id));
        Assert.Equal([22, 5, 15], queue.Take(3, _ => true, _ => true).Select(e => e.Id));
        Assert.Equal(3, queue.Holders);


        // A holder whose line is empty gives up its turn.
        var rest = queue.Take(100, _ => true, entry => entry.Owner == holders[0]);
        Assert.Equal(5, rest.Count);
        Assert.Equal(2, queue.Holders);

        Assert.Equal(13, queue.Count);
    }
}

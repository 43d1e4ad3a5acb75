using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// With a journal, queued tasks beyond the limit wait in it: a long stretch of one submission becomes a run of ids
/// in the ready queue, not an entry per task. They still run in order with their own specs, results reach their
/// submitter, and a task named in the middle of a run (aborted, asked about, depended on) behaves as any other.
/// </summary>
public sealed class SpillTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new(new TaskFarmOptions { MaxQueuedSpecBytesInMemory = 0, BatchSize = 64 }, journaled: true);

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task QueuedBeyondTheLimit_WaitAsOneRun_AndRunInOrderWithTheirOwnSpecs()
    {
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = await client.SubmitJournaledAsync([.. Enumerable.Range(0, 200).Select(i => Code(i + 1, $"task {i}"))]);
        Assert.Equal(1, harness.Farm.SpilledRuns);

        var engine = harness.AddEngine();
        var sent = await engine.RunTasksAsync(ids.Count);

        Assert.Equal([.. Enumerable.Range(0, 200).Select(i => $"task {i}")], sent);
        for (var i = 0; i < ids.Count; i++)
        {
            var result = await client.ResultAsync(ids[i]);
            Assert.Equal(TaskState.Succeeded, result.State);
            Assert.Equal($"task {i}", result.Stdout);
        }

        Assert.Equal(0, harness.Farm.SpilledRuns);
    }

    [Fact]
    public async Task ASubmissionPartlyTakenByAnEngineBeforeItIsJournaled_SpillsTheRest_AndAllRunOnce()
    {
        // The engine takes the front of the submission while the journal writes it; what is left waits as a run. (A
        // stretch whose front was gone made the spill fail, and its tasks were never answered.)
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = await client.SubmitJournaledAsync([.. Enumerable.Range(0, 200).Select(i => Code(i + 1, $"task {i}"))]);
        Assert.Equal(1, harness.Farm.SpilledRuns);

        var sent = await engine.RunTasksAsync(ids.Count);

        Assert.Equal([.. Enumerable.Range(0, 200).Select(i => $"task {i}")], sent);
        for (var i = 0; i < ids.Count; i++)
        {
            Assert.Equal($"task {i}", (await client.ResultAsync(ids[i])).Stdout);
        }
    }

    [Fact]
    public async Task TasksNamedInsideARun_AreAbortedAskedAboutAndDependedOn_AsAnyOther()
    {
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = await client.SubmitJournaledAsync([.. Enumerable.Range(0, 100).Select(i => Code(i + 1, $"task {i}"))]);
        Assert.Equal(1, harness.Farm.SpilledRuns);

        Assert.Equal([ids[50]], await harness.Farm.AbortAsync(client.Capability, [ids[50]]).Within());
        Assert.Equal(2, harness.Farm.SpilledRuns);
        Assert.Equal(TaskState.Queued, (await client.StatusAsync(ids[70])).State);
        var dependent = client.SubmitAccepted(Code(1, "after task 90", after: ids[90]))[0];
        var other = new FarmClient(harness.Farm, harness.Capability('b'));
        await Assert.ThrowsAsync<Internal.Tasks.TaskNotHeldException>(() => other.StatusAsync(ids[20]));

        var aborted = await client.ResultAsync(ids[50]);
        Assert.Equal(TaskState.Aborted, aborted.State);
        Assert.Equal(0, aborted.Attempts);

        var engine = harness.AddEngine();
        var sent = new List<string>();
        while (!sent.Contains("after task 90"))
        {
            var (work, code) = await engine.NextBatchAsync();
            Assert.True(!code.Contains("after task 90") || sent.Contains("task 90"), "the dependent was sent before task 90 had succeeded");
            sent.AddRange(code);
            engine.Answer(work, [.. code.Select(c => FakeEngine.Ok(c))]);
        }

        Assert.Equal([.. Enumerable.Range(0, 100).Where(i => i != 50).Select(i => $"task {i}").Append("after task 90")], sent);
        Assert.Equal("task 70", (await client.ResultAsync(ids[70])).Stdout);
        Assert.Equal(TaskState.Succeeded, (await client.ResultAsync(dependent)).State);
    }

    [Fact]
    public async Task ARestart_LetsQueuedTasksWaitInTheJournalAsItReadsThem_AndKeepsADependencyOnALaterTask()
    {
        // More than one restore chunk: the restart spills as it reads, not after holding every spec. The first task
        // depends on the last of its batch, which the journal gives back after it.
        const int count = 5_000;
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = await client.SubmitJournaledAsync([
            Code(1, "task 0", after: -count),
            .. Enumerable.Range(1, count - 1).Select(i => Code(i + 1, $"task {i}"))]);

        var (queued, finished) = harness.NewFarm(new TaskFarmOptions { MaxQueuedSpecBytesInMemory = 0, BatchSize = 64 }).Restore();
        Assert.Equal((count, 0), (queued, finished));
        Assert.True(harness.Farm.SpilledRuns >= 2, $"{harness.Farm.SpilledRuns} runs: the restart did not spill as it read");

        var engine = harness.AddEngine();
        var sent = await engine.RunTasksAsync(count);

        Assert.Equal([.. Enumerable.Range(1, count - 1).Select(i => $"task {i}").Append("task 0")], sent);
        var again = new FarmClient(harness.Farm, client.Capability);
        Assert.Equal("task 0", (await again.StatusAsync(ids[0])).Stdout);
        Assert.Equal("task 4321", (await again.StatusAsync(ids[4321])).Stdout);
    }

    [Fact]
    public async Task SpecsStayInMemoryUnderTheByteLimit_AndThoseQueuedPastItWaitInTheJournal()
    {
        // Each spec counts its encoded size and what its objects hold decoded: 200 small ones are well under 1 MiB.
        await using var limited = new FarmHarness(new TaskFarmOptions { MaxQueuedSpecBytesInMemory = 1 << 20, BatchSize = 64 }, journaled: true);
        var farm = limited.Farm;
        var client = new FarmClient(farm, limited.Capability('a'));
        var first = await client.SubmitJournaledAsync([.. Enumerable.Range(0, 200).Select(i => Code(i + 1, $"task {i}"))]);
        Assert.Equal(0, farm.SpilledRuns);
        var held = farm.QueuedSpecBytes;
        Assert.InRange(held, 200 * CapCluster.Controller.Internal.Tasks.ReadyQueue.SpecObjectBytes, 200 * (CapCluster.Controller.Internal.Tasks.ReadyQueue.SpecObjectBytes + 100));

        // Large specs take the queue past the limit: the submission that does waits in the journal, its bytes are not counted.
        var large = new string('x', 8 << 10);
        var second = await client.SubmitJournaledAsync([.. Enumerable.Range(0, 200).Select(i => Code(i + 1, $"/* {large} */ task {200 + i}"))]);
        Assert.Equal(1, farm.SpilledRuns);
        Assert.True(farm.QueuedSpecBytes <= held + (64 << 10), $"{farm.QueuedSpecBytes} bytes counted after the spill");

        var engine = limited.AddEngine();
        var sent = await engine.RunTasksAsync(first.Count + second.Count);

        Assert.Equal(400, sent.Count);
        Assert.Equal("task 0", sent[0]);
        Assert.EndsWith("task 399", sent[^1], StringComparison.Ordinal);
        Assert.Equal(0, farm.QueuedSpecBytes);
        Assert.Equal(0, farm.SpilledRuns);
    }

    [Fact]
    public async Task AResultFileDamagedOrGone_FailsOnlyItsTaskAtTheRestart_SayingSo_TheOthersComeBack()
    {
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var waiting = Code(4, "needs a gpu");
        waiting.Spec.Requires.Add(new Requirement { Name = "gpu", Value = "yes" });
        var ids = await client.SubmitJournaledAsync(Code(1, "large"), Code(2, "gone"), Code(3, "small"), waiting);
        var engine = harness.AddEngine();
        var large = new string('x', (1 << 20) + 10);
        await engine.RunTasksAsync(FakeEngine.Ok(large), FakeEngine.Ok(large), FakeEngine.Ok("small"));
        await client.ResultAsync(ids[2]);
        await harness.FlushJournalAsync();
        var damaged = Path.Combine(harness.JournalFolder, "results", $"{ids[0]}.result");
        var gone = Path.Combine(harness.JournalFolder, "results", $"{ids[1]}.result");
        File.WriteAllBytes(damaged, [.. File.ReadAllBytes(damaged).AsSpan(0, 1000)]);
        File.Delete(gone);

        var (queued, finished) = harness.NewFarm(new TaskFarmOptions()).Restore();

        Assert.Equal((1, 3), (queued, finished));
        var again = new FarmClient(harness.Farm, client.Capability);
        var lost = await again.StatusAsync(ids[0]);
        Assert.Equal(TaskState.Failed, lost.State);
        Assert.StartsWith($"lost at the controller's restart: its result file {damaged} could not be read (", lost.Failure, StringComparison.Ordinal);
        Assert.StartsWith($"lost at the controller's restart: its result file {gone} could not be read (", (await again.StatusAsync(ids[1])).Failure, StringComparison.Ordinal);
        Assert.Equal("small", (await again.StatusAsync(ids[2])).Stdout);
        Assert.Equal(TaskState.Queued, (await again.StatusAsync(ids[3])).State);
    }
}

using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// An aborted task that is queued never runs; one sent to an engine is reported aborted when its engine answers: skipped
/// when it had not started (the engine is told), run to its end when it had.
/// </summary>
public sealed class AbortTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new();

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task Queued_IsAbortedAtOnce_AndNeverSent()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var running = client.SubmitAccepted(Code(1, "first"))[0];
        var (first, _) = await engine.NextBatchAsync();
        var unrunnable = Code(2, "needs a gpu");
        unrunnable.Spec.Requires.Add(new Requirement { Name = "gpu", Value = "yes" });
        var queued = client.SubmitAccepted(unrunnable)[0];

        Assert.Equal([queued], await harness.Farm.AbortAsync(client.Capability, [queued]).Within());

        var result = await client.ResultAsync(queued);
        Assert.Equal(TaskState.Aborted, result.State);
        Assert.Equal("aborted before it ran", result.Failure);
        Assert.Equal(0, result.Attempts);
        engine.Answer(first, FakeEngine.Ok());
        Assert.Equal(TaskState.Succeeded, (await client.ResultAsync(running)).State);
    }

    [Fact]
    public async Task Running_IsReportedAbortedWhenItsEngineAnswers_AndNotRetried()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var id = client.SubmitAccepted(Code(1, "long", retries: 3))[0];
        var (work, _) = await engine.NextBatchAsync();

        await harness.Farm.AbortAsync(client.Capability, [id]).Within();
        Assert.Equal(TaskState.Running, (await client.StatusAsync(id)).State);
        engine.Answer(work, FakeEngine.Raised("System.OperationCanceledException"));

        var result = await client.ResultAsync(id);
        Assert.Equal(TaskState.Aborted, result.State);
        Assert.Equal(1, result.Attempts);
    }

    [Fact]
    public async Task SentInABatch_TheEngineIsToldToSkipThem_OnesItSkippedNeverRan_TheOneItHadStartedRanToItsEnd()
    {
        var engine = await harness.AddAnsweredEngineAsync();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = client.SubmitAccepted(Code(1, "first"), Code(2, "second"), Code(3, "third"), Code(4, "fourth")).ToArray();
        var (work, code) = await engine.NextBatchAsync();
        Assert.Equal(["first", "second", "third", "fourth"], code);
        Assert.Equal(ids, work.Request.Tasks.TaskIds.ToArray());

        await harness.Farm.AbortAsync(client.Capability, ids[1..]).Within();
        await harness.Farm.AbortAsync(client.Capability, ids[1..]).Within(); // asked again: the engine is told once

        Assert.Equal(ids[1..], (await engine.NextAbortAsync()).TaskIds.ToArray());
        foreach (var id in ids)
        {
            Assert.Equal(TaskState.Running, (await client.StatusAsync(id)).State);
        }

        // The second had started when the abort reached the engine; the third and fourth waited behind it.
        engine.Answer(work, FakeEngine.Ok("first"), FakeEngine.Ok("second"), new TaskReply { Aborted = true }, new TaskReply { Aborted = true });

        Assert.Equal(TaskState.Succeeded, (await client.ResultAsync(ids[0])).State);
        var started = await client.ResultAsync(ids[1]);
        Assert.Equal(TaskState.Aborted, started.State);
        Assert.Contains($"sent to engine {engine.Id}, which ran it to its end", started.Failure, StringComparison.Ordinal);
        foreach (var skipped in ids[2..])
        {
            var result = await client.ResultAsync(skipped);
            Assert.Equal(TaskState.Aborted, result.State);
            Assert.Equal($"aborted before it ran (engine {engine.Id} skipped it in its batch)", result.Failure);
            Assert.Equal(engine.Id, result.EngineId);
        }

        Assert.False(engine.TryTakeSentWork(out _));
        var status = harness.Farm.Status(client.Capability);
        Assert.Equal(1, status.Succeeded);
        Assert.Equal(3, status.Aborted);
        Assert.Equal(0, status.Running);
    }

    [Fact]
    public async Task Skipped_ThoughNeverAborted_CountsAsAFailedAttempt_AndIsRetried()
    {
        var engine = await harness.AddAnsweredEngineAsync();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var id = client.SubmitAccepted(Code(1, "only", retries: 1))[0];
        var (work, _) = await engine.NextBatchAsync();

        engine.Answer(work, new TaskReply { Aborted = true });
        var (again, code) = await engine.NextBatchAsync();
        engine.Answer(again, FakeEngine.Ok("only"));

        Assert.Equal(["only"], code);
        var result = await client.ResultAsync(id);
        Assert.Equal(TaskState.Succeeded, result.State);
        Assert.Equal(2, result.Attempts);
    }

    [Fact]
    public async Task AnotherHoldersTask_CannotBeAborted()
    {
        harness.AddEngine();
        var alice = new FarmClient(harness.Farm, harness.Capability('a'));
        var bob = new FarmClient(harness.Farm, harness.Capability('b'));
        var hers = alice.SubmitAccepted(Code(1, "hers"))[0];

        await Assert.ThrowsAsync<Internal.Tasks.TaskNotHeldException>(() => harness.Farm.AbortAsync(bob.Capability, [hers]).Within());

        Assert.Equal(TaskState.Running, (await alice.StatusAsync(hers)).State);
    }
}

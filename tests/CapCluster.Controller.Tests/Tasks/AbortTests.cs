using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>An aborted task that is queued never runs; one that runs is reported aborted when its engine answers, whatever it answers.</summary>
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

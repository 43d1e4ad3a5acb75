using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// A task runs only after every task it follows succeeded; one that did not succeed fails its dependents (and theirs)
/// with an error naming it. A negative dependency names a task of the same batch by its client reference.
/// </summary>
public sealed class DependencyTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new();

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task After_RunsTheDependentOnlyOnceItsDependencySucceeded()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = client.SubmitAccepted(Code(1, "first"), Code(2, "then", after: -1));

        var (first, code) = await engine.NextBatchAsync();
        Assert.Equal(["first"], code);
        Assert.Equal(TaskState.Queued, (await client.StatusAsync(ids[1])).State);
        engine.Answer(first, FakeEngine.Ok());

        var (then, thenCode) = await engine.NextBatchAsync();
        Assert.Equal(["then"], thenCode);
        engine.Answer(then, FakeEngine.Ok());
        Assert.Equal(TaskState.Succeeded, (await client.ResultAsync(ids[1])).State);
    }

    [Fact]
    public async Task ADependencyNamedTwice_IsWaitedForOnce()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var earlier = client.SubmitAccepted(Code(1, "earlier"))[0];
        var (running, _) = await engine.NextBatchAsync();
        var ids = client.SubmitAccepted(Code(2, "first"), Code(3, "then", after: new long[] { -2, -2, earlier, earlier }));
        engine.Answer(running, FakeEngine.Ok());

        var (first, code) = await engine.NextBatchAsync();
        Assert.Equal(["first"], code);
        engine.Answer(first, FakeEngine.Ok());

        // Both dependencies were running or queued when it was admitted; each releases it once.
        var (then, thenCode) = await engine.NextBatchAsync();
        Assert.Equal(["then"], thenCode);
        engine.Answer(then, FakeEngine.Ok());
        Assert.Equal(TaskState.Succeeded, (await client.ResultAsync(ids[1])).State);
    }

    [Fact]
    public async Task DependencyFailed_FailsItsDependentsAndTheirs_NamingIt_WithoutRunningThem()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = client.SubmitAccepted(Code(1, "first"), Code(2, "second", after: -1), Code(3, "third", after: -2));

        var (first, _) = await engine.NextBatchAsync();
        engine.Answer(first, FakeEngine.Raised("System.InvalidOperationException", "no input"));

        var second = await client.ResultAsync(ids[1]);
        Assert.Equal(TaskState.Failed, second.State);
        Assert.Equal(0, second.Attempts);
        Assert.Equal($"dependency {ids[0]} did not succeed (failed: System.InvalidOperationException: no input)", second.Failure);
        var third = await client.ResultAsync(ids[2]);
        Assert.Equal(TaskState.Failed, third.State);
        Assert.StartsWith($"dependency {ids[1]} did not succeed", third.Failure);
    }

    [Fact]
    public async Task FollowingATaskThatAlreadyFailed_FailsAtOnce()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var failed = client.SubmitAccepted(Code(1, "first"))[0];
        var (work, _) = await engine.NextBatchAsync();
        engine.Answer(work, FakeEngine.Raised("System.Exception"));
        await client.ResultAsync(failed);

        var dependent = client.SubmitAccepted(Code(2, "later", after: failed))[0];

        var result = await client.ResultAsync(dependent);
        Assert.Equal(TaskState.Failed, result.State);
        Assert.StartsWith($"dependency {failed} did not succeed", result.Failure);
    }

    [Fact]
    public void Cycle_InOneBatch_IsRefused_AndSoIsWhatDependsOnIt()
    {
        var client = new FarmClient(harness.Farm, harness.Capability('a'));

        var answers = client.Submit(Code(1, "a", after: -2), Code(2, "b", after: -1), Code(3, "c", after: -1), Code(4, "free"));

        Assert.StartsWith("dependency cycle: task #", answers[0].Refused);
        Assert.StartsWith("dependency cycle: task #", answers[1].Refused);
        Assert.Equal("it depends on task #1 of the same batch, which was refused", answers[2].Refused);
        Assert.Equal("", answers[3].Refused);
        Assert.NotEqual(0, answers[3].TaskId);
    }

    [Fact]
    public async Task FollowingAnotherHoldersTask_IsRefused_LikeAnIdNeverIssued()
    {
        harness.AddEngine();
        var alice = new FarmClient(harness.Farm, harness.Capability('a'));
        var bob = new FarmClient(harness.Farm, harness.Capability('b'));
        var hers = alice.SubmitAccepted(Code(1, "hers"))[0];

        var answers = bob.Submit(Code(1, "his", after: hers), Code(2, "unknown", after: hers + 1000));

        Assert.Equal($"dependency task {hers} is not one of this capability's tasks held by the controller", answers[0].Refused[..(answers[0].Refused.IndexOf(':'))]);
        Assert.Equal(answers[0].Refused.Replace($"task {hers} ", "task X "), answers[1].Refused.Replace($"task {hers + 1000} ", "task X "));
        await Assert.ThrowsAsync<Internal.Tasks.TaskNotHeldException>(() => bob.StatusAsync(hers));
    }
}

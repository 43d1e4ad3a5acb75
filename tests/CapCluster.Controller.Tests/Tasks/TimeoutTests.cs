using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// A task running past its time limit (on the farm's clock, here a fake one) counts as a failed attempt: it is retried
/// while it has retries, or fails saying it timed out; an answer that arrives after that no longer counts.
/// </summary>
public sealed class TimeoutTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new();

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task OverItsLimit_WithoutRetries_FailsAsTimedOut()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var id = client.SubmitAccepted(Code(1, "slow", timeout: TimeSpan.FromSeconds(5)))[0];
        await engine.NextBatchAsync();

        harness.Time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(TaskState.Running, (await client.StatusAsync(id)).State);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));

        var result = await client.ResultAsync(id);
        Assert.Equal(TaskState.Failed, result.State);
        Assert.Equal($"timed out after 5 s on engine {engine.Id}", result.Failure);
        Assert.Equal(1, result.Attempts);
    }

    [Fact]
    public async Task OverItsLimit_WithARetry_RunsAgainElsewhere_AndTheLateAnswerIsIgnored()
    {
        var slow = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var id = client.SubmitAccepted(Code(1, "slow", retries: 1, timeout: TimeSpan.FromSeconds(2)))[0];
        var (late, _) = await slow.NextBatchAsync();
        var other = harness.AddEngine();

        harness.Time.Advance(TimeSpan.FromSeconds(2));
        var (retry, _) = await other.NextBatchAsync(); // the less loaded engine: the slow one still runs the first attempt
        slow.Answer(late, FakeEngine.Ok("too late to count"));
        other.Answer(retry, FakeEngine.Ok("in time"));

        var result = await client.ResultAsync(id);
        Assert.Equal(TaskState.Succeeded, result.State);
        Assert.Equal("in time", result.Stdout);
        Assert.Equal(other.Id, result.EngineId);
        Assert.Equal(2, result.Attempts);
    }

    [Fact]
    public async Task AnsweredInTime_TheLimitPassingLaterChangesNothing()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var id = client.SubmitAccepted(Code(1, "quick", timeout: TimeSpan.FromSeconds(1)))[0];
        var (work, _) = await engine.NextBatchAsync();
        engine.Answer(work, FakeEngine.Ok());
        Assert.Equal(TaskState.Succeeded, (await client.ResultAsync(id)).State);

        harness.Time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(TaskState.Succeeded, (await client.StatusAsync(id)).State);
    }
}

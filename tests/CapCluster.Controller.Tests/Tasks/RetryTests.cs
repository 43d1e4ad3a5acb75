using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>A task that raises is run again while it has retries, then its recovery task once, then it fails with the error.</summary>
public sealed class RetryTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new();

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task Raising_EveryAttempt_RunsRetriesPlusOneTimes_ThenFailsWithTheError()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var id = client.SubmitAccepted(Code(1, "flaky", retries: 2))[0];

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var (work, code) = await engine.NextBatchAsync();
            Assert.Equal(["flaky"], code);
            engine.Answer(work, FakeEngine.Raised("System.InvalidOperationException", $"attempt {attempt}"));
        }

        var result = await client.ResultAsync(id);
        Assert.Equal(TaskState.Failed, result.State);
        Assert.Equal(3, result.Attempts);
        Assert.Equal("System.InvalidOperationException", result.Error.Type);
        Assert.Equal("attempt 3", result.Error.Message);
        Assert.False(result.Recovered);
    }

    [Fact]
    public async Task Raising_Once_ThenSucceeding_SucceedsOnTheSecondAttempt()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var id = client.SubmitAccepted(Code(1, "flaky", retries: 3))[0];

        var (first, _) = await engine.NextBatchAsync();
        engine.Answer(first, FakeEngine.Raised("System.IO.IOException"));
        var (second, _) = await engine.NextBatchAsync();
        engine.Answer(second, FakeEngine.Ok("done"));

        var result = await client.ResultAsync(id);
        Assert.Equal(TaskState.Succeeded, result.State);
        Assert.Equal(2, result.Attempts);
        Assert.Equal("done", result.Stdout);
        Assert.Equal(engine.Id, result.EngineId);
    }

    [Fact]
    public async Task NoRetries_Raising_FailsAfterOneAttempt()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var id = client.SubmitAccepted(Code(1, "once"))[0];

        var (work, _) = await engine.NextBatchAsync();
        engine.Answer(work, FakeEngine.Raised("System.DivideByZeroException"));

        var result = await client.ResultAsync(id);
        Assert.Equal(TaskState.Failed, result.State);
        Assert.Equal(1, result.Attempts);
        Assert.Equal("System.DivideByZeroException", result.Error.Type);
    }

    [Fact]
    public async Task RetriesUsedUp_RunsTheRecoveryTaskOnce_AndItsSuccessIsTheResult()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var recovery = new TaskSpec { Code = new CodeTaskSpec { Code = "recover" } };
        var id = client.SubmitAccepted(Code(1, "main", retries: 1, recovery: recovery))[0];

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var (work, code) = await engine.NextBatchAsync();
            Assert.Equal(["main"], code);
            engine.Answer(work, FakeEngine.Raised("System.Exception"));
        }

        var (recovering, recoveryCode) = await engine.NextBatchAsync();
        Assert.Equal(["recover"], recoveryCode);
        engine.Answer(recovering, FakeEngine.Ok("recovered"));

        var result = await client.ResultAsync(id);
        Assert.Equal(TaskState.Succeeded, result.State);
        Assert.True(result.Recovered);
        Assert.Equal("recovered", result.Stdout);
        Assert.Equal(3, result.Attempts);
    }

    [Fact]
    public async Task RecoveryTaskRaising_IsNotRetried_AndTheTaskFailsWithItsError()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var recovery = new TaskSpec { Code = new CodeTaskSpec { Code = "recover" }, Retries = 5 };
        var id = client.SubmitAccepted(Code(1, "main", retries: 0, recovery: recovery))[0];

        var (work, _) = await engine.NextBatchAsync();
        engine.Answer(work, FakeEngine.Raised("System.Exception", "main failed"));
        var (recovering, code) = await engine.NextBatchAsync();
        Assert.Equal(["recover"], code);
        engine.Answer(recovering, FakeEngine.Raised("System.ApplicationException", "recovery failed"));

        var result = await client.ResultAsync(id);
        Assert.Equal(TaskState.Failed, result.State);
        Assert.True(result.Recovered);
        Assert.Equal("recovery failed", result.Error.Message);
        Assert.Equal(2, result.Attempts);
    }
}

using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// Which engine a ready task goes to: the least loaded that can take it, the first registered of equals; and one task a
/// batch to an engine until it answered one.
/// </summary>
public sealed class DispatchTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new();

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task ATask_GoesToTheLeastLoadedEngine_TheFirstRegisteredOfEquals()
    {
        var first = harness.AddEngine();
        var second = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));

        client.SubmitAccepted(Code(1, "a"));
        var (work, code) = await first.NextBatchAsync();
        Assert.Equal(["a"], code);

        // The first engine runs one task, the second none.
        client.SubmitAccepted(Code(2, "b"));
        Assert.Equal(["b"], (await second.NextBatchAsync()).Code);
        Assert.False(first.TryTakeSentWork(out _));
        first.Answer(work, FakeEngine.Ok());
    }

    [Fact]
    public async Task AFreshEngine_GetsOneTaskABatch_UntilItAnsweredOne_SoTheFirstResultWaitsForNoOther()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = client.SubmitAccepted(Code(1, "a"), Code(2, "b"), Code(3, "c"), Code(4, "d"));

        // Two batches at most per engine, of one task each (the second waits at the engine for the first's answer): the
        // others stay queued, for any engine.
        var (work, code) = await engine.NextBatchAsync();
        Assert.Equal(["a"], code);
        Assert.Equal(TaskState.Running, (await client.StatusAsync(ids[1])).State);
        Assert.Equal(TaskState.Queued, (await client.StatusAsync(ids[2])).State);
        Assert.Equal(TaskState.Queued, (await client.StatusAsync(ids[3])).State);

        // The first result is final while the second task still runs.
        engine.Answer(work, FakeEngine.Ok("a"));
        var first = await client.ResultAsync(ids[0]);
        Assert.Equal(TaskState.Succeeded, first.State);
        Assert.Equal("a", first.Stdout);
        Assert.Equal(TaskState.Running, (await client.StatusAsync(ids[1])).State);

        // Once it answered, its batches are as large as the options say: after the second, the rest at once.
        (work, code) = await engine.NextBatchAsync();
        Assert.Equal(["b"], code);
        engine.Answer(work, FakeEngine.Ok("b"));
        Assert.Equal(["c", "d"], (await engine.NextBatchAsync()).Code);
    }

    [Fact]
    public async Task AnEngineRegisteredAfterABurst_StillGetsTasks_TheFirstTookOnlyItsOneTaskBatches()
    {
        var first = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var ids = client.SubmitAccepted([.. Enumerable.Range(1, 10).Select(i => Code(i, $"t{i}"))]);
        Assert.Equal(["t1"], (await first.NextBatchAsync()).Code);
        Assert.Equal(TaskState.Running, (await client.StatusAsync(ids[1])).State); // its second batch, waiting at it
        foreach (var id in ids.Skip(2))
        {
            Assert.Equal(TaskState.Queued, (await client.StatusAsync(id)).State);
        }

        // As after a controller restart: the second engine registers while the burst waits.
        var second = harness.AddEngine();

        var (work, code) = await second.NextBatchAsync();
        Assert.Equal(["t3"], code);
        Assert.Equal(TaskState.Running, (await client.StatusAsync(ids[3])).State);
        foreach (var id in ids.Skip(4))
        {
            Assert.Equal(TaskState.Queued, (await client.StatusAsync(id)).State);
        }

        second.Answer(work, FakeEngine.Ok());
        Assert.Equal(second.Id, (await client.ResultAsync(ids[2])).EngineId);
    }

    [Fact]
    public async Task AnEngineLackingWhatATaskRequires_IsPassedOver_ForTheNextLeastLoaded()
    {
        var plain = harness.AddEngine();
        var gpu = harness.AddEngine(new Dictionary<string, string> { ["gpu"] = "yes" });
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var needsGpu = Code(1, "needs a gpu");
        needsGpu.Spec.Requires.Add(new Requirement { Name = "gpu", Value = "yes" });

        var id = client.SubmitAccepted(needsGpu)[0];

        var (work, code) = await gpu.NextBatchAsync();
        Assert.Equal(["needs a gpu"], code);
        Assert.False(plain.TryTakeSentWork(out _));
        gpu.Answer(work, FakeEngine.Ok());
        Assert.Equal(TaskState.Succeeded, (await client.ResultAsync(id)).State);
        Assert.Equal(gpu.Id, (await client.ResultAsync(id)).EngineId);
    }

    [Fact]
    public async Task QueuedTasksOfARevokedOrExpiredCapability_FailWithoutRunning_OthersRun()
    {
        var owner = new FarmClient(harness.Farm, harness.Capability('o'));
        var revoked = new FarmClient(harness.Farm, harness.Capability('r'));
        var expiring = new FarmClient(harness.Farm, harness.Update(harness.Capability('e'), r => r with { Expires = harness.Time.GetUtcNow().AddHours(1) }));
        var notRun = revoked.SubmitAccepted(Code(1, "revoked one"), Code(2, "revoked two"));
        var late = expiring.SubmitAccepted(Code(3, "expired"))[0];
        var kept = owner.SubmitAccepted(Code(4, "the owner's"))[0];

        var revokedAt = harness.Time.GetUtcNow();
        harness.Update(revoked.Capability, r => r with { Revoked = true, RevokedAt = revokedAt });
        harness.Time.Advance(TimeSpan.FromHours(2));
        var engine = harness.AddEngine();

        Assert.Equal(["the owner's"], await engine.RunTasksAsync(1));
        Assert.Equal(TaskState.Succeeded, (await owner.ResultAsync(kept)).State);
        foreach (var id in notRun)
        {
            var result = await revoked.ResultAsync(id);
            Assert.Equal(TaskState.Failed, result.State);
            Assert.Equal($"not run: capability {revoked.Capability.Id} was revoked at {revokedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}", result.Failure);
            Assert.Equal(0, result.Attempts);
        }

        var expired = await expiring.ResultAsync(late);
        Assert.Equal(TaskState.Failed, expired.State);
        Assert.StartsWith($"not run: capability {expiring.Capability.Id} expired at ", expired.Failure, StringComparison.Ordinal);
        Assert.False(engine.TryTakeSentWork(out _));
    }
}

using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>Which engine a ready task goes to: the least loaded that can take it, the first registered of equals.</summary>
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
}

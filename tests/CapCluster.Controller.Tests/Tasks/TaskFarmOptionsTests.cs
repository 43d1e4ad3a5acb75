using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary><see cref="TaskFarmOptions"/> reach the farm, bound what they say, and are checked at start-up.</summary>
public sealed class TaskFarmOptionsTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new(new TaskFarmOptions { BatchSize = 2, MaxResultWait = TimeSpan.FromMinutes(1) });

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task BatchSize_BoundsTheTasksSentToAnEngineAtOnce()
    {
        var engine = harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));

        client.SubmitAccepted(Code(1, "a"), Code(2, "b"), Code(3, "c"), Code(4, "d"), Code(5, "e"));

        var (work, code) = await engine.NextBatchAsync();
        Assert.Equal(["a", "b"], code);
        engine.Answer(work, FakeEngine.Ok(), FakeEngine.Ok());
        Assert.Equal(["c", "d"], (await engine.NextBatchAsync()).Code);
    }

    [Fact]
    public async Task MaxResultWait_CutsALongerWaitShort_OnTheClock()
    {
        harness.AddEngine();
        var client = new FarmClient(harness.Farm, harness.Capability('a'));
        var id = client.SubmitAccepted(Code(1, "never answered"))[0];

        var waiting = harness.Farm.GetResultsAsync(client.Capability, [id], TimeSpan.FromHours(10), CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(waiting.IsCompleted);
        harness.Time.Advance(TimeSpan.FromSeconds(1));

        var result = Assert.Single(await waiting.Within());
        Assert.Equal(TaskState.Running, result.State);
    }

    [Fact]
    public async Task Options_ChangedAfterTheFarmStarted_DoNotChangeIt()
    {
        var options = new TaskFarmOptions { BatchSize = 1 };
        var farm = harness.NewFarm(options);
        options.BatchSize = 64;
        var engine = harness.AddEngine();

        new FarmClient(farm, harness.Capability('a')).SubmitAccepted(Code(1, "a"), Code(2, "b"));

        Assert.Equal(["a"], (await engine.NextBatchAsync()).Code);
    }

    [Theory]
    [InlineData(nameof(TaskFarmOptions.BatchSize), "--task-batch-size (0)")]
    [InlineData(nameof(TaskFarmOptions.BatchesPerEngine), "the batches per engine (0)")]
    [InlineData(nameof(TaskFarmOptions.MaxFinishedResults), "--max-finished-results (0)")]
    [InlineData(nameof(TaskFarmOptions.IdBlock), "the task id block (0)")]
    public void Validate_RefusesZero_NamingTheOption(string property, string named)
    {
        var options = new ControllerOptions();
        var tasks = options.Tasks;
        typeof(TaskFarmOptions).GetProperty(property)!.SetValue(tasks, Convert.ChangeType(0, typeof(TaskFarmOptions).GetProperty(property)!.PropertyType, null));

        var refused = Assert.Throws<CapClusterException>(options.Validate);

        Assert.Contains(named, refused.Message);
    }

    [Theory]
    [InlineData(0.5, false)]
    [InlineData(1, true)]
    [InlineData(24 * 86400, true)]
    [InlineData(30 * 86400, false)]
    public void Validate_TakesAResultWaitFromOneSecondToWhatAClientCanAsk(double seconds, bool valid)
    {
        var options = new ControllerOptions { Tasks = { MaxResultWait = TimeSpan.FromSeconds(seconds) } };

        if (valid)
        {
            options.Validate();
        }
        else
        {
            Assert.Contains("--max-result-wait", Assert.Throws<CapClusterException>(options.Validate).Message);
        }
    }
}

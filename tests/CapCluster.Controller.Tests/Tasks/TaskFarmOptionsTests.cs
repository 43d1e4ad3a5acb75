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

        client.SubmitAccepted(Code(1, "a"), Code(2, "b"), Code(3, "c"), Code(4, "d"), Code(5, "e"), Code(6, "f"));

        // A fresh engine gets one task a batch (two batches at once) until it answered one; then the batch size.
        string[][] batches = [["a"], ["b"], ["c", "d"], ["e", "f"]];
        foreach (var expected in batches)
        {
            var (work, code) = await engine.NextBatchAsync();
            Assert.Equal(expected, code);
            engine.Answer(work, [.. code.Select(_ => FakeEngine.Ok())]);
        }
    }

    [Theory]
    [InlineData(5_000, 2)] // 5 ms tasks: two fill the 10 ms a batch should run
    [InlineData(1, 64)] // tasks that take no time: as many as the batch size allows
    [InlineData(1_000_000, 1)] // tasks of a second: one a batch
    public async Task ABatchHoldsAsManyTasks_AsTheEnginesLastOnesSayRunInTheBatchTime_WithinTheBatchSize(long taskMicroseconds, int expected)
    {
        var farm = harness.NewFarm(new TaskFarmOptions { BatchSize = 64, BatchTime = TimeSpan.FromMilliseconds(10) });
        var engine = harness.AddEngine();
        new FarmClient(farm, harness.Capability('a')).SubmitAccepted([.. Enumerable.Range(1, 300).Select(i => Code(i, $"t{i}"))]);

        // Until it answered a batch, an engine gets one task a batch (the second batch is made while the first runs). The
        // engine's replies say when each task started and ended, one after the other.
        // The third batch is made when the first is answered, the fourth when the second is; a batch of many tasks
        // teaches the same as one of one.
        var started = 1_800_000_000_000_000L;
        foreach (var size in new[] { 1, 1, expected, expected })
        {
            var (work, code) = await engine.NextBatchAsync();
            Assert.Equal(size, code.Count);
            engine.Answer(work, [.. code.Select((_, i) => Timed(started + (i * taskMicroseconds), taskMicroseconds))]);
            started += code.Count * taskMicroseconds;
        }

        Assert.Equal(expected, (await engine.NextBatchAsync()).Code.Count);
    }

    private static TaskReply Timed(long started, long micros) => new() { StartedUnixUs = started, CompletedUnixUs = started + micros };

    [Fact]
    public async Task RepliesWithoutTimes_TeachNothing_TheEngineKeepsTheBatchSize()
    {
        var farm = harness.NewFarm(new TaskFarmOptions { BatchSize = 8, BatchTime = TimeSpan.FromMilliseconds(10), MaxResultWait = TimeSpan.FromMinutes(1) });
        var engine = harness.AddEngine();
        new FarmClient(farm, harness.Capability('a')).SubmitAccepted([.. Enumerable.Range(1, 40).Select(i => Code(i, $"t{i}"))]);

        // One task a batch until the engine answered one; then the batch size, which replies without times leave as it is.
        foreach (var expected in new[] { 1, 1, 8, 8 })
        {
            var (work, code) = await engine.NextBatchAsync();
            Assert.Equal(expected, code.Count);
            engine.Answer(work); // no replies, no times: each task fails
        }

        Assert.Equal(8, (await engine.NextBatchAsync()).Code.Count);
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

        new FarmClient(farm, harness.Capability('a')).SubmitAccepted(Code(1, "a"), Code(2, "b"), Code(3, "c"), Code(4, "d"));

        // The first two batches hold one task whatever the options; the third, made once the engine answered, shows them.
        foreach (var expected in new[] { "a", "b", "c" })
        {
            var (work, code) = await engine.NextBatchAsync();
            Assert.Equal([expected], code);
            engine.Answer(work, FakeEngine.Ok());
        }
    }

    [Theory]
    [InlineData(nameof(TaskFarmOptions.BatchSize), "--task-batch-size (0)")]
    [InlineData(nameof(TaskFarmOptions.BatchesPerEngine), "the batches per engine (0)")]
    [InlineData(nameof(TaskFarmOptions.MaxFinishedResults), "--max-finished-results (0)")]
    [InlineData(nameof(TaskFarmOptions.IdBlock), "the task id block (0)")]
    [InlineData(nameof(TaskFarmOptions.BatchTime), "--task-batch-time (0 ms)")]
    public void Validate_RefusesZero_NamingTheOption(string property, string named)
    {
        var options = new ControllerOptions();
        var tasks = options.Tasks;
        var type = typeof(TaskFarmOptions).GetProperty(property)!.PropertyType;
        typeof(TaskFarmOptions).GetProperty(property)!.SetValue(tasks, type == typeof(TimeSpan) ? TimeSpan.Zero : Convert.ChangeType(0, type, null));

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

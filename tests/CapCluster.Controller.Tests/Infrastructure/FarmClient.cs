using CapCluster.Controller.Internal.Tasks;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using TaskFarm = CapCluster.Controller.Internal.Tasks.TaskFarm;

namespace CapCluster.Controller.Tests.Infrastructure;

/// <summary>One client's task stream: submits as it, and waits for the results the farm delivers to it.</summary>
internal sealed class FarmClient(TaskFarm farm, CapabilityRecord capability)
{
    private readonly Dictionary<long, TaskResult> delivered = [];

    public TaskSubscriber Subscriber { get; } = new();

    public CapabilityRecord Capability { get; } = capability;

    /// <summary>Submits a batch; each answer is a task id, or a refusal.</summary>
    public IReadOnlyList<TaskAccepted> Submit(params SubmitTask[] batch) => farm.Submit(batch, Subscriber, Capability).Accepted;

    /// <summary>Submits a batch every task of which must be accepted; their ids in order.</summary>
    public IReadOnlyList<long> SubmitAccepted(params SubmitTask[] batch)
    {
        var answers = Submit(batch);
        Assert.All(answers, a => Assert.Equal("", a.Refused));
        return [.. answers.Select(a => a.TaskId)];
    }

    /// <summary>Submits a batch every task of which must be accepted, and waits until the journal holds it; their ids in order.</summary>
    public async Task<IReadOnlyList<long>> SubmitJournaledAsync(params SubmitTask[] batch)
    {
        var outcome = farm.Submit(batch, Subscriber, Capability);
        Assert.All(outcome.Accepted, a => Assert.Equal("", a.Refused));
        Assert.Null(await outcome.Durable.Within());
        return [.. outcome.Accepted.Select(a => a.TaskId)];
    }

    /// <summary>The result the farm delivered for <paramref name="id"/> on this client's stream.</summary>
    public async Task<TaskResult> ResultAsync(long id)
    {
        while (!delivered.ContainsKey(id))
        {
            foreach (var result in await Subscriber.Results.ReadAsync().Within())
            {
                Assert.True(delivered.TryAdd(result.TaskId, result), $"task {result.TaskId}'s result was delivered twice");
            }
        }

        return delivered[id];
    }

    /// <summary>What the farm says of the task now, without waiting.</summary>
    public async Task<TaskResult> StatusAsync(long id) => (await farm.GetResultsAsync(Capability, [id], TimeSpan.Zero, CancellationToken.None).Within())[0];
}

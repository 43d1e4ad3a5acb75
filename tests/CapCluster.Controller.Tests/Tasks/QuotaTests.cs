using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Controller.Internal.Tasks;
using static CapCluster.Controller.Tests.Infrastructure.FarmHarness;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// A capability's task quota counts every task it and the capabilities derived from it submitted, across batches and
/// restarts (the ledger holds the charges); submissions beyond it are refused saying whose quota is used up.
/// </summary>
public sealed class QuotaTests : IAsyncDisposable
{
    private readonly FarmHarness harness = new();

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public void OverItsQuota_TheRestOfTheBatchIsRefused()
    {
        var capability = harness.Capability('a', maxTasks: 2);
        var client = new FarmClient(harness.Farm, capability);

        var answers = client.Submit(Code(1, "one"), Code(2, "two"), Code(3, "three"));

        Assert.NotEqual(0, answers[0].TaskId);
        Assert.NotEqual(0, answers[1].TaskId);
        Assert.Equal(0, answers[2].TaskId);
        Assert.Equal($"capability {capability.Id} allows at most 2 tasks, and they are used up", answers[2].Refused);
    }

    [Fact]
    public void Quota_CountsAcrossBatches_AndARestartedFarmKeepsTheCharges()
    {
        var capability = harness.Capability('a', maxTasks: 3);
        Assert.All(new FarmClient(harness.Farm, capability).Submit(Code(1, "one"), Code(2, "two")), a => Assert.Equal("", a.Refused));

        var restarted = harness.NewFarm(new TaskFarmOptions());
        var answers = new FarmClient(restarted, capability).Submit(Code(1, "three"), Code(2, "four"));

        Assert.Equal("", answers[0].Refused);
        Assert.Contains("allows at most 3 tasks", answers[1].Refused);
    }

    [Fact]
    public void DerivedCapability_IsChargedAgainstItsParentsQuota()
    {
        var parent = harness.Capability('p', maxTasks: 1);
        var child = harness.Capability('c', parent: parent);

        var answers = new FarmClient(harness.Farm, child).Submit(Code(1, "one"), Code(2, "two"));
        var parentsOwn = new FarmClient(harness.Farm, parent).Submit(Code(1, "three"));

        Assert.Equal("", answers[0].Refused);
        Assert.Equal($"capability {parent.Id} allows at most 1 tasks for itself and the capabilities derived from it, and they are used up", answers[1].Refused);
        Assert.Equal($"capability {parent.Id} allows at most 1 tasks, and they are used up", parentsOwn[0].Refused);
    }

    [Fact]
    public void RefusedTasks_AreNotCharged()
    {
        var capability = harness.Capability('a', maxTasks: 1);
        var client = new FarmClient(harness.Farm, capability);

        var refused = client.Submit(Code(1, "cycle", after: -1));
        var accepted = client.Submit(Code(2, "fine"));

        Assert.StartsWith("dependency cycle", refused[0].Refused);
        Assert.Equal("", accepted[0].Refused);
    }
}

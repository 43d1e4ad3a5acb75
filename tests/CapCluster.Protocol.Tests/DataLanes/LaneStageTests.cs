using CapCluster.Protocol.DataLanes;
using CapCluster.Protocol.Lanes;

namespace CapCluster.Protocol.Tests.DataLanes;

/// <summary>The second thread of a large lane read or write: steps in order, the first failure kept, the rest skipped.</summary>
public sealed class LaneStageTests
{
    [Fact]
    public void Steps_RunInOrder_OnAThreadOfTheirOwn_AndDrainWaitsForThemAll()
    {
        var ran = new List<(int Step, int Thread)>();
        using var stage = new LaneStage("test stage");

        for (var i = 0; i < 100; i++)
        {
            var step = i;
            stage.Post(() =>
            {
                Thread.Sleep(step % 10 == 0 ? 5 : 0);
                ran.Add((step, Environment.CurrentManagedThreadId));
            });
        }

        stage.Drain();

        Assert.Equal(Enumerable.Range(0, 100), ran.Select(r => r.Step));
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, ran.Select(r => r.Thread));
    }

    [Fact]
    public void AfterAFailure_LaterStepsAreSkipped_AndDrainThrowsTheFirst()
    {
        var ran = new List<int>();
        using var stage = new LaneStage("test stage");

        stage.Post(() => ran.Add(0));
        stage.Post(() => throw new LaneException("record 1 failed authentication"));
        stage.Post(() => throw new IOException("a later failure"));
        stage.Post(() => ran.Add(3));

        var error = Assert.Throws<LaneException>(stage.Drain);
        Assert.Equal("record 1 failed authentication", error.Message);
        Assert.Equal([0], ran);
        Assert.True(stage.Failed);
    }

    [Fact]
    public void Dispose_LetsQueuedStepsFinish_BeforeItReturns()
    {
        var done = 0;
        var stage = new LaneStage("test stage");
        stage.Post(() =>
        {
            Thread.Sleep(50);
            done = 1;
        });

        stage.Dispose();

        Assert.Equal(1, Volatile.Read(ref done));
    }
}

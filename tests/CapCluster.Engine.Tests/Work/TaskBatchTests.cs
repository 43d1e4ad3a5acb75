using CapCluster.Engine.Internal;
using CapCluster.Engine.Internal.Delegates;
using CapCluster.Engine.Internal.Scripting;
using CapCluster.Engine.Tests.Scripting;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;

namespace CapCluster.Engine.Tests.Work;

/// <summary>
/// A task batch as an engine runs it: a task sent as the same as the one before it runs that task again; one the
/// controller aborted before its turn is skipped.
/// </summary>
[Collection(ScriptingCollection.Name)]
public sealed class TaskBatchTests
{
    [Fact]
    public async Task ATaskSentAsTheSameAsTheOneBefore_RunsItAgain_AndFirstInABatch_FailsAlone()
    {
        using var runner = new WorkRunner(new EngineNamespace(), new DelegateRunner(), () => 7);
        await runner.RunAsync(new EngineRequest { Execute = new ExecuteRequest { Code = "var n = 0;" } }, ReceivedValues.None, CancellationToken.None);
        TaskRequest again = new() { SameAsPrevious = true };

        var (reply, _) = await runner.RunAsync(Batch(new TaskRequest { Code = "n++; Console.Write(n);" }, again, again, new TaskRequest { Code = "Console.Write(-n);" }, again), ReceivedValues.None, CancellationToken.None);
        Assert.Equal(["1", "2", "3", "-3", "-3"], reply.Tasks.Replies.Select(r => r.Stdout));
        Assert.All(reply.Tasks.Replies, r => Assert.Null(r.Error));

        var (first, _) = await runner.RunAsync(Batch(again, new TaskRequest { Code = "Console.Write(n);" }), ReceivedValues.None, CancellationToken.None);
        Assert.Contains("first in its batch", first.Tasks.Replies[0].Error.Message, StringComparison.Ordinal);
        Assert.Equal(7, first.Tasks.Replies[0].Error.EngineId);
        Assert.Equal("3", first.Tasks.Replies[1].Stdout);
    }

    [Fact]
    public async Task TasksAbortedBeforeTheirTurn_AreSkippedAndAnsweredAborted_TheOthersRun_AsTheSameAgainToo()
    {
        using var runner = new WorkRunner(new EngineNamespace(), new DelegateRunner(), () => 7);
        await runner.RunAsync(new EngineRequest { Execute = new ExecuteRequest { Code = "var n = 0;" } }, ReceivedValues.None, CancellationToken.None);
        TaskRequest again = new() { SameAsPrevious = true };
        var batch = Batch(new TaskRequest { Code = "Console.Write(n);" }, new TaskRequest { Code = "n++; Console.Write(n);" }, again, again);
        batch.Tasks.TaskIds.AddRange([11L, 12, 13, 14]);

        runner.Aborted.Add([12, 14, 99]);
        var (reply, _) = await runner.RunAsync(batch, ReceivedValues.None, CancellationToken.None);

        // The skipped 12 never ran its n++; 13, sent as the same again, ran it once.
        Assert.Equal([false, true, false, true], reply.Tasks.Replies.Select(r => r.Aborted));
        Assert.Equal(["0", "", "1", ""], reply.Tasks.Replies.Select(r => r.Stdout));
        Assert.All(reply.Tasks.Replies, r => Assert.Null(r.Error));
        Assert.False(runner.Aborted.TryTake(12), "a skipped task's id is forgotten");
        Assert.True(runner.Aborted.TryTake(99), "an abort whose batch has not come is kept for it");
    }

    [Fact]
    public void AbortedTasks_BeyondItsLimit_ForgetsTheOldest()
    {
        var aborted = new AbortedTasks();
        aborted.Add([.. Enumerable.Range(1, AbortedTasks.Limit + 1).Select(i => (long)i)]);

        Assert.False(aborted.TryTake(1));
        Assert.True(aborted.TryTake(2));
        Assert.True(aborted.TryTake(AbortedTasks.Limit + 1));
    }

    private static EngineRequest Batch(params TaskRequest[] tasks) => new() { Tasks = new TaskBatch { Tasks = { tasks } } };
}

using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;
using Google.Protobuf;

namespace CapCluster.Client.Tests;

/// <summary>A result's values are decoded when first read: waiting for many results decodes none of them.</summary>
public sealed class TaskOutcomeTests
{
    private static NamedValue Named(string name, object? value) =>
        new() { Name = name, Tree = ValueCodec.Encode(value, name).Tree.ToByteString() };

    [Fact]
    public void Values_DecodedOnce_EveryReadGivesTheSameObjects()
    {
        var outcome = new TaskOutcome(new TaskResult { TaskId = 7, State = TaskState.Succeeded, Values = { Named("result", new List<int> { 1, 2, 3 }) } });

        var first = outcome.Values;

        Assert.Same(first, outcome.Values);
        Assert.Same(first["result"], outcome.Value);
        Assert.Equal([1, 2, 3], outcome.Get<List<int>>());
    }

    [Fact]
    public void AValueThatCannotBeDecoded_FailsItsRead_NotTheOutcome()
    {
        var outcome = new TaskOutcome(new TaskResult
        {
            TaskId = 8,
            State = TaskState.Succeeded,
            Values = { new NamedValue { Name = "result", Tree = ByteString.CopyFrom(0xff, 0xff, 0xff) } },
        });

        Assert.Equal(TaskStatus.Succeeded, outcome.Status);
        Assert.Equal("task 8 succeeded on engine 0", outcome.ToString());
        Assert.ThrowsAny<Exception>(() => outcome.Values);
    }

    [Fact]
    public void NoValues_IsEmpty()
    {
        var outcome = new TaskOutcome(new TaskResult { TaskId = 9, State = TaskState.Failed, Failure = "engine 1 was lost" });

        Assert.Empty(outcome.Values);
        Assert.Null(outcome.Value);
    }
}

using CapCluster.Client.Internal;
using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;
using Google.Protobuf;

namespace CapCluster.Client.Tests;

/// <summary>
/// A task stream's results stay encoded until read: the stream reads their ids alone, and an outcome decodes the rest
/// the first time it is asked.
/// </summary>
public sealed class EncodedResultsTests
{
    [Fact]
    public void TheViewReadsTheSameBytesTheControllerSends_EachResultAsItsOwnEncoding()
    {
        var sent = new TaskServerMessage { Results = new TaskResultBatch { Results = { Results(new Random(7), 50) } } };

        var view = TaskServerMessageView.Parser.ParseFrom(sent.ToByteArray());

        Assert.Equal(TaskServerMessageView.KindOneofCase.Results, view.KindCase);
        Assert.Equal(sent.Results.Results.Select(r => r.ToByteString()), view.Results.Results);
        var accepted = new TaskServerMessage { Accepted = new TaskAcceptedBatch { Tasks = { new TaskAccepted { ClientRef = 3, TaskId = 9 } } } };
        Assert.Equal(accepted.Accepted, TaskServerMessageView.Parser.ParseFrom(accepted.ToByteArray()).Accepted);
    }

    [Fact]
    public void TaskIdOf_ReadsWhatProtobufReads_WhateverElseTheResultHolds()
    {
        foreach (var result in Results(new Random(11), 500))
        {
            Assert.Equal(result.TaskId, EncodedResults.TaskIdOf(result.ToByteArray()));
        }

        Assert.Equal(0, EncodedResults.TaskIdOf([]));
        // Fields in any order, the id repeated: the last one counts, as protobuf reads it.
        byte[] twice = [.. new TaskResult { TaskId = 5 }.ToByteArray(), .. new TaskResult { Stdout = "x" }.ToByteArray(), .. new TaskResult { TaskId = 6 }.ToByteArray()];
        Assert.Equal(TaskResult.Parser.ParseFrom(twice).TaskId, EncodedResults.TaskIdOf(twice));
    }

    [Theory]
    [InlineData(new byte[] { 0x08 }, "runs past the end")] // a tag, no number
    [InlineData(new byte[] { 0x08, 0x80 }, "runs past the end")] // a number cut short
    [InlineData(new byte[] { 0x2a, 0x05, 0x61 }, "a field of 5 bytes at byte 2 runs past the end")] // stdout, 5 bytes said, 1 there
    [InlineData(new byte[] { 0x0b }, "wire type 3")] // a group, which TaskResult never holds
    [InlineData(new byte[] { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, "longer than 10 bytes")]
    public void TaskIdOf_AMalformedResult_SaysWhatIsWrong(byte[] encoded, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => EncodedResults.TaskIdOf(encoded));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void AnEncodedOutcome_DecodesWhenFirstRead_AndReadsAsTheDecodedOneWould()
    {
        var result = Results(new Random(3), 1)[0];
        result.State = TaskState.Failed;
        result.Error = new RemoteError { EngineId = 2, Type = "System.InvalidOperationException", Message = "no", Line = 4 };

        var encoded = new TaskOutcome(result.TaskId, result.ToByteString());
        var decoded = new TaskOutcome(result);

        Assert.Equal(decoded.ToString(), encoded.ToString());
        Assert.Equal((decoded.Status, decoded.EngineId, decoded.Attempts, decoded.Stdout, decoded.Failure, decoded.Submitted),
            (encoded.Status, encoded.EngineId, encoded.Attempts, encoded.Stdout, encoded.Failure, encoded.Submitted));
        Assert.Equal(decoded.Value, encoded.Value);
        Assert.Same(encoded.Error, encoded.Error);
        Assert.Equal(4, encoded.Error!.Line);
    }

    [Fact]
    public void AnEncodedOutcomeThatCannotBeDecoded_FailsItsReads_NamingTheTask()
    {
        var outcome = new TaskOutcome(41, ByteString.CopyFrom(0x2a, 0x05, 0x61));

        Assert.Equal(41, outcome.TaskId);
        var error = Assert.Throws<InvalidDataException>(() => outcome.Status);
        Assert.Contains("the result of task 41 malformed", error.Message);
    }

    private static List<TaskResult> Results(Random random, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => new TaskResult
        {
            TaskId = random.Next(4) == 0 ? random.NextInt64() : random.Next(1, 1_000_000),
            State = (TaskState)random.Next(6),
            EngineId = random.Next(-1, 64),
            Values = { Enumerable.Range(0, random.Next(3)).Select(i => new NamedValue { Name = $"v{i}", Tree = ValueCodec.Encode(random.NextDouble(), "v").Tree.ToByteString() }) },
            Stdout = new string('o', random.Next(300)),
            Failure = random.Next(2) == 0 ? "" : "engine 1 was lost",
            SubmittedUnixUs = 1_700_000_000_000_000 + random.Next(),
            CompletedUnixUs = random.Next(2) == 0 ? 0 : 1_700_000_000_000_000 + random.Next(),
            Attempts = random.Next(5),
            Recovered = random.Next(2) == 0,
        })];
}

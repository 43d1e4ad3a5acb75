using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Tests.Data;

/// <summary>
/// Streams of units (a head, then its blobs as chunks) written by <see cref="Units"/> and read whole by
/// <see cref="UnitReader{TMessage, TBlobs}"/>: the one place that knows chunks exist.
/// </summary>
public sealed class UnitReaderTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task UnitsComeWhole_InterleavedWithMessagesThatStandAlone_AndRelayedUnderAnotherId()
    {
        var big = Bytes(3 * DataChunks.ChunkSize + 5, seed: 1);
        var small = Bytes(10, seed: 2);
        var messages = new List<ControllerMessage>();
        messages.AddRange(Units.Of(new ControllerMessage { Work = new Work { WorkId = 7 } }, [big, small]));
        // A control message may come between a unit's head and its chunks (another thread sends it ahead of the queue).
        messages.Insert(2, new ControllerMessage { Stop = new StopEngine { Reason = "x" } });
        messages.AddRange(Units.Of(new ControllerMessage { Work = new Work { WorkId = 8 } }, []));

        var reader = new UnitReader<ControllerMessage, RelayedBlobs>(new ListReader<ControllerMessage>(messages), head => new RelayedBlobs(head.Work.BlobLengths), strict: true);

        Assert.True(await reader.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(ControllerMessage.KindOneofCase.Stop, reader.Current.KindCase);
        Assert.Null(reader.Blobs);

        Assert.True(await reader.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(7, reader.Current.Work.WorkId);
        Assert.True(reader.Blobs!.IsComplete);
        Assert.Equal([big.Length, small.Length], reader.Blobs.Announced);

        // Relayed under id 9: the head announces the same lengths, the chunks name 9 and hold the same bytes.
        var relayed = Units.Relay(new SessionMessage { Result = new CallResult { CallId = 9 } }, reader.Blobs);
        Assert.Equal([big.Length, small.Length], relayed[0].Result.BlobLengths);
        Assert.All(relayed.Skip(1), m => Assert.Equal(9, m.Chunk.CallId));
        var received = new UnitReader<SessionMessage, RelayedBlobs>(new ListReader<SessionMessage>(relayed), head => new RelayedBlobs(head.Result.BlobLengths), strict: true);
        Assert.True(await received.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(big.ToArray(), Blob(received.Blobs!, 0, big.Length));
        Assert.Equal(small.ToArray(), Blob(received.Blobs!, 1, small.Length));

        Assert.True(await reader.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(8, reader.Current.Work.WorkId);
        Assert.Empty(reader.Current.Work.BlobLengths);
        Assert.False(await reader.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Empty(reader.Unfinished);
    }

    [Fact]
    public async Task ADroppedUnit_HasItsChunksReadAndChecked_ButNeverDelivered()
    {
        var messages = Units.Of(new SessionMessage { Call = new EngineCall { CallId = 1 } }, [Bytes(2 * DataChunks.ChunkSize, seed: 3)]);
        messages.AddRange(Units.Of(new SessionMessage { Call = new EngineCall { CallId = 2 } }, [Bytes(5, seed: 4)]));
        var reader = new UnitReader<SessionMessage, RelayedBlobs>(
            new ListReader<SessionMessage>(messages), head => head.Call.CallId == 1 ? null : new RelayedBlobs(head.Call.BlobLengths), strict: true);

        Assert.True(await reader.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(2, reader.Current.Call.CallId);
        Assert.False(await reader.MoveNext(CancellationToken.None).WaitAsync(Timeout));

        // A dropped unit's chunk that does not fit what it announced still ends a strict stream.
        var overlong = Units.Of(new SessionMessage { Call = new EngineCall { CallId = 1 } }, [Bytes(5, seed: 5)]);
        overlong.Add(new SessionMessage { Chunk = new DataChunk { CallId = 1, Blob = 0, Offset = 5, Data = Google.Protobuf.ByteString.CopyFrom(1) } });
        overlong.RemoveAt(1);
        var bad = new UnitReader<SessionMessage, RelayedBlobs>(new ListReader<SessionMessage>(overlong), _ => null, strict: true);
        var e = await Assert.ThrowsAsync<RpcException>(() => bad.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
    }

    [Fact]
    public async Task AChunkOfNoUnit_EndsAStrictStream_AndIsIgnoredByALenientOne()
    {
        List<EngineMessage> messages =
        [
            new() { Chunk = new DataChunk { CallId = 42, Data = Google.Protobuf.ByteString.CopyFrom(1, 2) } },
            new() { Heartbeat = new Heartbeat() },
        ];

        var strict = new UnitReader<EngineMessage, RelayedBlobs>(new ListReader<EngineMessage>(messages), _ => RelayedBlobs.None, strict: true);
        var e = await Assert.ThrowsAsync<RpcException>(() => strict.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal("a data chunk for unit 42, which announced no data", e.Status.Detail);

        var seen = 0;
        var lenient = new UnitReader<EngineMessage, RelayedBlobs>(new ListReader<EngineMessage>(messages), _ => RelayedBlobs.None, strict: false, seen: _ => seen++);
        Assert.True(await lenient.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(EngineMessage.KindOneofCase.Heartbeat, lenient.Current.KindCase);
        Assert.Equal(2, seen);
    }

    [Fact]
    public async Task AUnitCutShort_IsUnfinished_WithWhatItReserved()
    {
        var messages = Units.Of(new EngineMessage { Result = new WorkResult { WorkId = 3 } }, [Bytes(2 * DataChunks.ChunkSize, seed: 6)]);
        messages.RemoveAt(messages.Count - 1);
        var reader = new UnitReader<EngineMessage, RelayedBlobs>(new ListReader<EngineMessage>(messages), head => new RelayedBlobs(head.Result.BlobLengths), strict: true);

        Assert.False(await reader.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        var (head, blobs) = Assert.Single(reader.Unfinished);
        Assert.Equal(3, head.Result.WorkId);
        Assert.Equal(2L * DataChunks.ChunkSize, blobs.TotalBytes);
        Assert.False(blobs.IsComplete);
    }

    [Fact]
    public async Task AStrictStream_AnnouncingMoreUnitsThanItFinishes_IsEnded_BeforeTheNextIsReceived()
    {
        // Heads whose data never comes, half of them dropped (refused): the reader would keep an entry for each.
        var messages = Enumerable.Range(1, UnitReader<SessionMessage, RelayedBlobs>.MaxUnfinished + 1)
            .Select(i => new SessionMessage { Call = new EngineCall { CallId = i, BlobLengths = { 10 } } })
            .ToList();
        var received = 0;
        var reader = new UnitReader<SessionMessage, RelayedBlobs>(
            new ListReader<SessionMessage>(messages), head => ++received % 2 == 0 ? null : new RelayedBlobs(head.Call.BlobLengths), strict: true);

        var e = await Assert.ThrowsAsync<RpcException>(() => reader.MoveNext(CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal(UnitReader<SessionMessage, RelayedBlobs>.MaxUnfinished, received);

        // A lenient stream (a trusted peer's) is not bounded this way.
        var lenient = new UnitReader<SessionMessage, RelayedBlobs>(new ListReader<SessionMessage>(messages), head => new RelayedBlobs(head.Call.BlobLengths), strict: false);
        Assert.False(await lenient.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(messages.Count, lenient.Unfinished.Count());
    }

    [Fact]
    public void AHeadSentAgain_AnnouncesItsBlobsOnce()
    {
        var head = new ControllerMessage { Work = new Work { WorkId = 1 } };
        var blobs = new RelayedBlobs([0]);
        Units.Relay(head, blobs);
        Units.Relay(head, blobs);
        Assert.Equal([0L], head.Work.BlobLengths);
    }

    private static byte[] Blob(RelayedBlobs blobs, int blob, int length)
    {
        var bytes = new byte[length];
        foreach (var chunk in blobs.Chunks.Where(c => c.Blob == blob))
        {
            chunk.Data.Span.CopyTo(bytes.AsSpan((int)chunk.Offset));
        }

        return bytes;
    }

    private static ReadOnlyMemory<byte> Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private sealed class ListReader<T>(IReadOnlyList<T> messages) : IAsyncStreamReader<T>
    {
        private int next;

        public T Current { get; private set; } = default!;

        public Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (next == messages.Count)
            {
                return Task.FromResult(false);
            }

            Current = messages[next++];
            return Task.FromResult(true);
        }
    }
}

using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;
using Google.Protobuf;

namespace CapCluster.Protocol.Tests.Data;

/// <summary>
/// Values received in chunks land in arrays that are not zeroed first, so a value may be built only once every
/// byte of it has been written: a chunk repeated or out of order is refused, and nothing decodes early.
/// </summary>
public sealed class ReceivedValuesTests
{
    private static readonly double[] Source = Enumerable.Range(0, 3 * DataChunks.ChunkSize / 8 + 5).Select(i => i * 0.5).ToArray();

    [Fact]
    public void ChunksInOrder_FillTheValue()
    {
        var (values, named, chunks) = Receive(Source);

        var completions = chunks.Select(values.Add).ToList();

        Assert.Equal([false, false, false, true], completions);
        Assert.True(values.IsComplete);
        Assert.Equal(Source, values.DecodeAs<double[]>(named));
    }

    [Fact]
    public void AValueWithDataStillToCome_CannotBeDecoded()
    {
        var (values, named, chunks) = Receive(Source);
        values.Add(chunks[0]);

        var e = Assert.Throws<InvalidOperationException>(() => values.Decode(named));

        Assert.Contains("'x'", e.Message, StringComparison.Ordinal);
        Assert.Contains("before all its data has arrived", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARepeatedChunk_IsRefused_AndCannotMakeTheValueLookComplete()
    {
        var (values, named, chunks) = Receive(Source);
        values.Add(chunks[0]);
        values.Add(chunks[1]);
        values.Add(chunks[2]);

        // The repeat carries as many bytes as the last chunk: counting bytes alone would call the value complete.
        var repeat = new DataChunk { CallId = 1, Blob = 0, Offset = chunks[2].Offset, Data = chunks[3].Data };
        var e = Assert.Throws<RpcException>(() => values.Add(repeat));

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains($"starts at offset {chunks[2].Offset}, where the next byte is {chunks[3].Offset}", e.Status.Detail, StringComparison.Ordinal);
        Assert.False(values.IsComplete);
        Assert.Throws<InvalidOperationException>(() => values.Decode(named));
    }

    [Fact]
    public void AChunkThatSkipsAhead_IsRefused()
    {
        var (values, _, chunks) = Receive(Source);

        var e = Assert.Throws<RpcException>(() => values.Add(chunks[1]));

        Assert.Contains($"blob 0 starts at offset {chunks[1].Offset}, where the next byte is 0", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ReceivedVectors_OfEveryElementType_HaveTheirOwnType()
    {
        object[] vectors =
        [
            new bool[70_000], new char[70_000], new sbyte[70_000], new byte[70_000], new short[70_000], new ushort[70_000],
            new int[70_000], new uint[70_000], new long[70_000], new ulong[70_000], new float[70_000], new double[70_000],
        ];
        foreach (Array vector in vectors)
        {
            vector.SetValue(Convert.ChangeType(1, vector.GetType().GetElementType()!, System.Globalization.CultureInfo.InvariantCulture), vector.Length - 1);
            var (values, named, chunks) = Receive(vector);
            chunks.ForEach(c => values.Add(c));

            var received = Assert.IsAssignableFrom<Array>(values.Decode(named));

            Assert.Equal(vector.GetType(), received.GetType());
            Assert.Equal(vector, received);
        }
    }

    private static (ReceivedValues Values, NamedValue Named, List<DataChunk> Chunks) Receive(object value)
    {
        var encoded = ValueCodec.Encode(value, "x", inlineLimit: 1024);
        var named = new NamedValue { Name = "x", Tree = encoded.Tree.ToByteString() };
        var values = new ReceivedValues([named], [.. DataChunks.Lengths(encoded.Blobs)]);
        return (values, values.Named[0], [.. DataChunks.Split(1, encoded.Blobs)]);
    }
}

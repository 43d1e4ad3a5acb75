using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;
using Google.Protobuf;

namespace CapCluster.Protocol.Tests.Values;

/// <summary>What the transport does with a value: serialize the tree, move the blobs in chunks.</summary>
internal static class ValueWire
{
    public static object? RoundTrip(object? value, int inlineLimit = 64 * 1024) =>
        RoundTrip(ValueCodec.Encode(value, "test value", inlineLimit));

    public static object? RoundTrip(EncodedValue encoded, int chunkBytes = 1 << 20)
    {
        var tree = Value.Parser.ParseFrom(encoded.Tree.ToByteArray());
        var targets = ValueCodec.AllocateTargets(tree);
        CopyBlobs(encoded, targets, chunkBytes);
        return ValueCodec.Decode(tree, targets);
    }

    public static void CopyBlobs(EncodedValue encoded, BlobTargets targets, int chunkBytes)
    {
        Assert.Equal(encoded.Blobs.Count, targets.Count);
        for (int i = 0; i < targets.Count; i++)
        {
            var source = encoded.Blobs[i];
            var destination = targets[i];
            Assert.Equal(source.Length, destination.Length);
            for (int offset = 0; offset < source.Length; offset += chunkBytes)
            {
                int length = Math.Min(chunkBytes, source.Length - offset);
                source.Slice(offset, length).Span.CopyTo(destination.Slice(offset, length).Span);
            }
        }
    }

    public static void AssertArraysEqual(Array expected, object? actual)
    {
        var array = Assert.IsAssignableFrom<Array>(actual);
        Assert.Equal(expected.GetType(), array.GetType());
        Assert.Equal(expected.Rank, array.Rank);
        for (int d = 0; d < expected.Rank; d++)
        {
            Assert.Equal(expected.GetLength(d), array.GetLength(d));
        }

        Assert.Equal(expected.Cast<object>(), array.Cast<object>());
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;
using Google.Protobuf;

namespace CapCluster.Protocol.Tests.Values;

public sealed class BlobTests
{
    [Fact]
    public void LargeVector_TravelsAsABlob_ThatAliasesTheSourceArray()
    {
        var array = new double[100_000];
        array[5] = 1.5;

        var encoded = ValueCodec.Encode(array, "x");

        var blob = Assert.Single(encoded.Blobs);
        Assert.Equal(800_000, blob.Length);
        Assert.Equal(Value.KindOneofCase.Array, encoded.Tree.KindCase);
        Assert.Equal(NumericArray.DataOneofCase.Blobs, encoded.Tree.Array.DataCase);
        Assert.True(Unsafe.AreSame(
            ref MemoryMarshal.GetReference(blob.Span),
            ref Unsafe.As<double, byte>(ref array[0])));
        array[5] = 42.0;
        Assert.Equal(42.0, MemoryMarshal.Cast<byte, double>(blob.Span)[5]);
        Assert.True(encoded.TotalBytes > 800_000);
    }

    [Fact]
    public void LargeMatrix_TravelsAsABlob_ThatAliasesTheSourceArray()
    {
        var matrix = new double[300, 300];

        var encoded = ValueCodec.Encode(matrix, "m");

        var blob = Assert.Single(encoded.Blobs);
        Assert.Equal(300 * 300 * 8, blob.Length);
        matrix[299, 299] = 7.0;
        Assert.Equal(7.0, MemoryMarshal.Cast<byte, double>(blob.Span)[^1]);
        using var pin = blob.Pin();
    }

    [Fact]
    public void ArraysJustAboveAndAtTheLimit_GoAsBlobAndInline()
    {
        var atLimit = ValueCodec.Encode(new byte[100], "x", inlineLimit: 100);
        var aboveLimit = ValueCodec.Encode(new byte[101], "x", inlineLimit: 100);

        Assert.Empty(atLimit.Blobs);
        Assert.Single(aboveLimit.Blobs);
    }

    [Fact]
    public void Decode_ReturnsTheVeryArrayOfTheTargets()
    {
        var source = Enumerable.Range(0, 50_000).Select(i => (long)i * 3).ToArray();
        var encoded = ValueCodec.Encode(source, "x");
        var targets = ValueCodec.AllocateTargets(encoded.Tree);
        ValueWire.CopyBlobs(encoded, targets, chunkBytes: 4096);

        var decoded = ValueCodec.Decode(encoded.Tree, targets);

        Assert.Equal(source, decoded);
        Assert.Same(targets.ArrayAt(0), decoded);
        Assert.Equal(400_000, targets.TotalBytes);
        MemoryMarshal.Cast<byte, long>(targets[0].Span)[7] = -1;
        Assert.Equal(-1, ((long[])decoded!)[7]);
    }

    [Fact]
    public void SeveralArraysInOneValue_AreNumberedInTreeOrder()
    {
        var a = Enumerable.Range(0, 1000).ToArray();
        var b = new double[20, 30];
        b[19, 29] = 3.25;
        var value = new List<object?> { a, "small", new Dictionary<string, object?> { ["b"] = b, ["c"] = new[] { 1 } } };

        var encoded = ValueCodec.Encode(value, "x", inlineLimit: 1000);
        Assert.Equal(2, encoded.Blobs.Count);
        var decoded = (List<object?>)ValueWire.RoundTrip(encoded)!;

        Assert.Equal(a, decoded[0]);
        var map = (Dictionary<string, object?>)decoded[2]!;
        ValueWire.AssertArraysEqual(b, map["b"]);
        Assert.Equal(new[] { 1 }, map["c"]);
    }

    [Fact]
    public void ArrayLargerThanOneBlob_IsSplitIntoSeveralBlobs()
    {
        var source = Enumerable.Range(0, 2501).Select(i => i * 0.25).ToArray(); // 20,008 bytes

        var encoded = ValueCodec.Encode(source, "x", inlineLimit: 0, maxBlobBytes: 1000);

        Assert.Equal(21, encoded.Blobs.Count);
        Assert.Equal(8, encoded.Blobs[20].Length);
        Assert.Equal(source, ValueWire.RoundTrip(encoded, chunkBytes: 300));
    }

    [Fact]
    public void Decode_WithoutTargets_ForATreeWithBlobs_IsMalformed()
    {
        var encoded = ValueCodec.Encode(new int[100_000], "x");

        var error = Assert.Throws<MalformedValueException>(() => ValueCodec.Decode(encoded.Tree));
        Assert.Contains("blob 0", error.Message);
    }

    [Fact]
    public void AllocateTargets_OverTheLimit_IsRefused()
    {
        var encoded = ValueCodec.Encode(new int[100_000], "x");

        Assert.Throws<MalformedValueException>(() => ValueCodec.AllocateTargets(encoded.Tree, maxTotalBytes: 399_999));
        Assert.Equal(400_000, ValueCodec.AllocateTargets(encoded.Tree, maxTotalBytes: 400_000).TotalBytes);
    }

    [Fact]
    public void Vector256MiB_RoundTrips_InFourMiBChunks()
    {
        const int count = 256 * 1024 * 1024 / sizeof(double);
        var source = GC.AllocateUninitializedArray<double>(count);
        for (int i = 0; i < count; i++)
        {
            source[i] = i * 0.5;
        }

        var encoded = ValueCodec.Encode(source, "big");
        var tree = Value.Parser.ParseFrom(encoded.Tree.ToByteArray());
        var targets = ValueCodec.AllocateTargets(tree);
        ValueWire.CopyBlobs(encoded, targets, chunkBytes: 4 * 1024 * 1024);
        var decoded = Assert.IsType<double[]>(ValueCodec.Decode(tree, targets));

        Assert.Equal(count, decoded.Length);
        Assert.True(MemoryMarshal.AsBytes(source.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(decoded.AsSpan())));
        Assert.Equal(0.5 * (count - 1), decoded[^1]);
        Assert.True(encoded.Tree.CalculateSize() < 100);
    }
}

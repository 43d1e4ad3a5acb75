using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;
using Google.Protobuf;

namespace CapCluster.Protocol.Tests.Values;

public sealed class MalformedTreeTests
{
    private static Value InlineArray(ScalarType type, long byteLength, int dataLength, params long[] shape)
    {
        var array = new NumericArray { ElementType = type, ByteLength = byteLength, InlineData = ByteString.CopyFrom(new byte[dataLength]) };
        array.Shape.Add(shape);
        return new Value { Array = array };
    }

    [Fact]
    public void ValueWithNoKind_IsMalformed()
    {
        Assert.Throws<MalformedValueException>(() => ValueCodec.Decode(new Value()));
    }

    [Fact]
    public void ArrayWhoseBytesDoNotMatchItsShape_IsMalformed()
    {
        Assert.Throws<MalformedValueException>(() => ValueCodec.Decode(InlineArray(ScalarType.Double, 16, 16, 3)));
        Assert.Throws<MalformedValueException>(() => ValueCodec.Decode(InlineArray(ScalarType.Double, 24, 16, 3)));
        Assert.Throws<MalformedValueException>(() => ValueCodec.Decode(InlineArray(ScalarType.Double, 8, 8, -1, -1)));
        Assert.Throws<MalformedValueException>(() => ValueCodec.Decode(InlineArray(ScalarType.String, 8, 8, 1)));
        Assert.Throws<MalformedValueException>(() => ValueCodec.Decode(InlineArray(ScalarType.Double, 0, 0)));
        Assert.Equal(new double[3], ValueCodec.Decode(InlineArray(ScalarType.Double, 24, 24, 3)));
    }

    [Fact]
    public void HugeShape_IsMalformed_NotAllocated()
    {
        var header = new NumericArray { ElementType = ScalarType.Double, ByteLength = 8, Blobs = new BlobRange { BlobCount = 1, BlobBytes = 8 } };
        header.Shape.Add([int.MaxValue, int.MaxValue, int.MaxValue]);

        Assert.Throws<MalformedValueException>(() => ValueCodec.AllocateTargets(new Value { Array = header }));
    }

    [Fact]
    public void OutOfRangeScalar_IsMalformed()
    {
        Assert.Throws<MalformedValueException>(() => ValueCodec.Decode(new Value { ByteValue = 256 }));
        Assert.Throws<MalformedValueException>(() => ValueCodec.Decode(new Value { CharValue = 0x10000 }));
    }

    [Fact]
    public void HomogeneousListHoldingAnotherType_IsMalformed()
    {
        var list = new ItemList { ElementType = ScalarType.Int32 };
        list.Items.Add(new Value { StringValue = "x" });

        Assert.Throws<MalformedValueException>(() => ValueCodec.Decode(new Value { List = list }));
    }

    [Fact]
    public void BoolArrayBytes_AreNormalized()
    {
        var array = new NumericArray { ElementType = ScalarType.Bool, ByteLength = 2, InlineData = ByteString.CopyFrom(0, 7) };
        array.Shape.Add(2);

        var decoded = (bool[])ValueCodec.Decode(new Value { Array = array })!;

        Assert.Equal([false, true], decoded);
        Assert.True(decoded[1] == true);
    }
}

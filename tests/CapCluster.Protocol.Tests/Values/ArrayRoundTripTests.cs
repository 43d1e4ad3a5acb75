using CapCluster.Protocol.Values;

namespace CapCluster.Protocol.Tests.Values;

public sealed class ArrayRoundTripTests
{
    public static TheoryData<Array, int> Arrays()
    {
        var data = new TheoryData<Array, int>();
        Array[] arrays =
        [
            new[] { 1, -2, int.MaxValue, int.MinValue },
            new[] { 0.5, double.NaN, double.PositiveInfinity, -0.0 },
            new[,] { { 1.0, 2.0, 3.0 }, { 4.0, 5.0, 6.0 } },
            Cube(),
            new[] { true, false, true },
            new[] { 'a', '\uffff', '\0' },
            new byte[] { 0, 1, 255 },
            new sbyte[] { sbyte.MinValue, -1, sbyte.MaxValue },
            new short[] { short.MinValue, short.MaxValue },
            new ushort[] { ushort.MaxValue },
            new uint[] { uint.MaxValue, 7 },
            new[] { long.MinValue, long.MaxValue },
            new[] { ulong.MaxValue, 0UL },
            new[] { float.NegativeInfinity, 1.25f },
            Array.Empty<byte>(),
            Array.Empty<double>(),
            new double[0, 5],
            new int[3, 0, 2],
            new long[2, 2, 2, 2],
        ];
        foreach (var array in arrays)
        {
            data.Add(array, 64 * 1024); // inline
            data.Add(array, 0); // every non-empty array as a blob
        }

        return data;
    }

    private static float[,,] Cube()
    {
        var cube = new float[2, 3, 4];
        for (int i = 0; i < 2; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                for (int k = 0; k < 4; k++)
                {
                    cube[i, j, k] = (i * 100) + (j * 10) + k + 0.5f;
                }
            }
        }

        return cube;
    }

    [Theory]
    [MemberData(nameof(Arrays))]
    public void NumericArray_RoundTrips_WithExactTypeShapeAndContents(Array array, int inlineLimit)
    {
        ValueWire.AssertArraysEqual(array, ValueWire.RoundTrip(array, inlineLimit));
    }

    [Fact]
    public void FloatCube_KeepsElementOrder()
    {
        var cube = Cube();
        var decoded = (float[,,])ValueWire.RoundTrip(cube, inlineLimit: 0)!;

        Assert.Equal(123.5f, decoded[1, 2, 3]);
        Assert.Equal(cube[0, 2, 1], decoded[0, 2, 1]);
    }

    [Fact]
    public void SmallArray_GoesInline_AndIsCopied()
    {
        var array = new[] { 1.0, 2.0 };
        var encoded = ValueCodec.Encode(array, "x");
        array[0] = 99;

        Assert.Empty(encoded.Blobs);
        Assert.Equal(16, encoded.Tree.Array.InlineData.Length);
        Assert.Equal(new[] { 1.0, 2.0 }, (double[])ValueCodec.Decode(encoded.Tree)!);
    }

    [Fact]
    public void JaggedArray_RoundTrips_AsListOfArrays()
    {
        int[][] jagged = [[1, 2, 3], [], [4]];

        var decoded = Assert.IsType<List<object?>>(ValueWire.RoundTrip(jagged));

        Assert.Equal(3, decoded.Count);
        Assert.Equal(jagged[0], Assert.IsType<int[]>(decoded[0]));
        Assert.Empty(Assert.IsType<int[]>(decoded[1]));
        Assert.Equal(jagged[2], Assert.IsType<int[]>(decoded[2]));
        Assert.Equal(jagged, ValueCodec.ConvertTo(decoded, typeof(int[][])));
    }
}

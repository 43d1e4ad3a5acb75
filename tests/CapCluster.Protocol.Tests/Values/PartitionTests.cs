using System.Collections;
using CapCluster.Protocol.Values;

namespace CapCluster.Protocol.Tests.Values;

public sealed class PartitionTests
{
    [Fact]
    public void Blocks_SplitEvenly_LargerBlocksFirst()
    {
        Assert.Equal([(0, 3_333_334), (3_333_334, 3_333_334), (6_666_668, 3_333_333)], Partition.Blocks(10_000_001, 3));
        Assert.Equal([(0, 2), (2, 2), (4, 1)], Partition.Blocks(5, 3));
        Assert.Equal([(0, 0), (0, 0), (0, 0), (0, 0)], Partition.Blocks(0, 4));
        Assert.Equal([(0, 1), (1, 1), (2, 1), (3, 0), (3, 0)], Partition.Blocks(3, 5));
    }

    [Fact]
    public void Blocks_RejectsNoParts()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Partition.Blocks(3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Partition.Blocks(-1, 2));
    }

    [Fact]
    public void Array_SlicedAndConcatenated_IsTheSame()
    {
        var source = Enumerable.Range(0, 11).ToArray();

        var parts = Partition.Blocks(source.Length, 4).Select(b => (object?)Partition.Slice(source, b.Start, b.Count)).ToList();

        Assert.All(parts, p => Assert.IsType<int[]>(p));
        Assert.Equal([0, 1, 2], (int[])parts[0]!);
        var joined = Assert.IsType<int[]>(Partition.Concatenate(parts));
        Assert.Equal(source, joined);
        Assert.NotSame(source, joined);
    }

    [Fact]
    public void Vectors_OfEnumsAndDecimals_JoinAsTheirOwnType()
    {
        var days = Enum.GetValues<DayOfWeek>();
        var decimals = new[] { 1.5m, -2m, 79228162514264337593543950335m };

        var joinedDays = Assert.IsType<DayOfWeek[]>(Partition.Concatenate([days[..3], days[3..]]));
        var joinedDecimals = Assert.IsType<decimal[]>(Partition.Concatenate([decimals[..1], decimals[1..]]));

        Assert.Equal(days, joinedDays);
        Assert.Equal(decimals, joinedDecimals);
    }

    [Fact]
    public void Matrix_SlicedByRows_AndConcatenated_IsTheSame()
    {
        var source = new int[5, 3];
        for (int i = 0; i < 15; i++)
        {
            source[i / 3, i % 3] = i;
        }

        var parts = Partition.Blocks(5, 2).Select(b => (object?)Partition.Slice(source, b.Start, b.Count)).ToList();

        var first = Assert.IsType<int[,]>(parts[0]);
        Assert.Equal(3, first.GetLength(0));
        Assert.Equal(3, first.GetLength(1));
        Assert.Equal(9, ((int[,])parts[1]!)[0, 0]);
        ValueWire.AssertArraysEqual(source, Partition.Concatenate(parts));
    }

    [Fact]
    public void LargeParts_JoinedAPartPerThread_KeepTheirOrder()
    {
        // Over 8 MiB joined: the parts are copied concurrently, each to its own offset.
        var vector = Enumerable.Range(0, 3_000_001).Select(i => (double)i).ToArray();
        var vectorParts = Partition.Blocks(vector.Length, 3).Select(b => (object?)Partition.Slice(vector, b.Start, b.Count)).ToList();
        var rows = new long[1_000_003, 2];
        for (int i = 0; i < rows.GetLength(0); i++)
        {
            rows[i, 0] = i;
            rows[i, 1] = -i;
        }

        var rowParts = Partition.Blocks(rows.GetLength(0), 4).Select(b => (object?)Partition.Slice(rows, b.Start, b.Count)).ToList();
        var strings = Enumerable.Range(0, 1_100_000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var stringParts = Partition.Blocks(strings.Length, 2).Select(b => (object?)Partition.Slice(strings, b.Start, b.Count)).ToList();

        Assert.Equal(vector, Assert.IsType<double[]>(Partition.Concatenate(vectorParts)));
        ValueWire.AssertArraysEqual(rows, Partition.Concatenate(rowParts));
        Assert.Equal(strings, Assert.IsType<string[]>(Partition.Concatenate(stringParts)));
    }

    [Fact]
    public void TypedList_SlicedAndConcatenated_StaysTyped()
    {
        var source = new List<string> { "a", "b", "c", "d", "e" };

        var parts = Partition.Blocks(5, 3).Select(b => (object?)Partition.Slice(source, b.Start, b.Count)).ToList();

        Assert.Equal(["a", "b"], Assert.IsType<List<string>>(parts[0]));
        Assert.Equal(source, Assert.IsType<List<string>>(Partition.Concatenate(parts)));
    }

    [Fact]
    public void UntypedLists_AndMixedParts_ConcatenateToListOfObjects()
    {
        var source = new ArrayList { 1, "two", 3.0 };

        var slice = Assert.IsType<List<object?>>(Partition.Slice(source, 1, 2));
        Assert.Equal(["two", 3.0], slice);
        Assert.Equal([1, 2, 3L], Assert.IsType<List<object?>>(Partition.Concatenate([new[] { 1 }, new List<int> { 2 }, new List<object?> { 3L }])));
        Assert.Empty(Assert.IsType<List<object?>>(Partition.Concatenate([])));
    }

    [Fact]
    public void ScatteredPieces_SurviveTheWire_AndGatherBack()
    {
        var source = Enumerable.Range(0, 100_000).Select(i => i * 1.5).ToArray();

        var gathered = Partition.Blocks(source.Length, 3)
            .Select(b => ValueWire.RoundTrip(Partition.Slice(source, b.Start, b.Count)))
            .ToList();

        Assert.Equal(source, Assert.IsType<double[]>(Partition.Concatenate(gathered)));
    }

    [Fact]
    public void BadSliceOrParts_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Partition.Slice(new int[3], 2, 2));
        Assert.Throws<ArgumentException>(() => Partition.Slice("abc", 0, 1));
        Assert.Throws<ArgumentException>(() => Partition.Concatenate([new int[1], null]));
    }
}

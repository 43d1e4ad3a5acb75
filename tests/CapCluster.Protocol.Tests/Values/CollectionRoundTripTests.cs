using System.Collections;
using System.Collections.ObjectModel;

namespace CapCluster.Protocol.Tests.Values;

public sealed class CollectionRoundTripTests
{
    [Fact]
    public void ListOfInt_RoundTrips_AsListOfInt()
    {
        var decoded = Assert.IsType<List<int>>(ValueWire.RoundTrip(new List<int> { 1, -2, 3 }));

        Assert.Equal([1, -2, 3], decoded);
    }

    [Fact]
    public void HomogeneousLists_KeepTheirPrimitiveElementType()
    {
        Assert.Equal(new string?[] { "a", null, "c" }, Assert.IsType<List<string>>(ValueWire.RoundTrip(new string?[] { "a", null, "c" })));
        Assert.Equal([1.5m, 2m], Assert.IsType<List<decimal>>(ValueWire.RoundTrip(new[] { 1.5m, 2m })));
        Assert.Equal([ulong.MaxValue], Assert.IsType<List<ulong>>(ValueWire.RoundTrip(new ReadOnlyCollection<ulong>([ulong.MaxValue]))));
        Assert.Empty(Assert.IsType<List<double>>(ValueWire.RoundTrip(new List<double>())));
    }

    [Fact]
    public void MixedList_RoundTrips_AsListOfObjects_WithExactItemTypes()
    {
        var list = new ArrayList { 1, 2L, "three", null, 4.5f, 'c', true };

        var decoded = Assert.IsType<List<object?>>(ValueWire.RoundTrip(list));

        Assert.Equal(list.Cast<object?>(), decoded);
        Assert.Equal(list.Cast<object?>().Select(i => i?.GetType()), decoded.Select(i => i?.GetType()));
    }

    [Fact]
    public void ListOfObjects_StaysAListOfObjects_EvenWhenAllItemsAreInts()
    {
        var decoded = Assert.IsType<List<object?>>(ValueWire.RoundTrip(new List<object> { 1, 2 }));

        Assert.Equal([1, 2], decoded);
    }

    [Fact]
    public void TypedDictionary_RoundTrips_AsTheSameDictionaryType()
    {
        var map = new Dictionary<string, double> { ["a"] = 1.5, ["b"] = double.NaN };

        var decoded = Assert.IsType<Dictionary<string, double>>(ValueWire.RoundTrip(map));

        Assert.Equal(map, decoded);
    }

    [Fact]
    public void NestedListsAndDictionaries_RoundTrip()
    {
        var value = new Dictionary<object, object?>
        {
            ["numbers"] = new List<object?> { 1, "x", null, new[,] { { 1.0, 2.0 }, { 3.0, 4.0 } } },
            [7] = new Dictionary<int, string> { [1] = "one", [2] = "two" },
            [2.5] = new List<List<int>> { new() { 1 }, new() { 2, 3 } },
            ["hashtable"] = new Hashtable { ["k"] = 1L },
        };

        var decoded = Assert.IsType<Dictionary<object, object?>>(ValueWire.RoundTrip(value, inlineLimit: 0));

        var numbers = Assert.IsType<List<object?>>(decoded["numbers"]);
        Assert.Equal([1, "x", null], numbers.Take(3));
        ValueWire.AssertArraysEqual(new[,] { { 1.0, 2.0 }, { 3.0, 4.0 } }, numbers[3]);
        Assert.Equal(new Dictionary<int, string> { [1] = "one", [2] = "two" }, Assert.IsType<Dictionary<int, string>>(decoded[7]));
        var nested = Assert.IsType<List<object?>>(decoded[2.5]);
        Assert.Equal([1], Assert.IsType<List<int>>(nested[0]));
        Assert.Equal([2, 3], Assert.IsType<List<int>>(nested[1]));
        Assert.Equal(1L, Assert.IsType<Dictionary<object, object?>>(decoded["hashtable"])["k"]);
    }

    [Fact]
    public void ValueTuples_RoundTrip_WithTheSameArityAndItemTypes()
    {
        Assert.Equal((1, "a", 2.5), ValueWire.RoundTrip((1, "a", 2.5)));
        Assert.Equal(ValueTuple.Create(42L), ValueWire.RoundTrip(ValueTuple.Create(42L)));
        Assert.Equal((1, 2, 3, 4, 5, 6, "seven"), ValueWire.RoundTrip((1, 2, 3, 4, 5, 6, "seven")));

        var withArray = ((int, double[]))ValueWire.RoundTrip((3, new[] { 1.0 }))!;
        Assert.Equal(3, withArray.Item1);
        Assert.Equal([1.0], withArray.Item2);
    }

    [Fact]
    public void ReferenceTuple_RoundTrips_AsATuple()
    {
        var decoded = ValueWire.RoundTrip(Tuple.Create(1, "x", 'c'));

        Assert.Equal(Tuple.Create(1, "x", 'c'), Assert.IsType<Tuple<int, string, char>>(decoded));
    }
}

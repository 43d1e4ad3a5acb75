using CapCluster.Protocol.Values;

namespace CapCluster.Protocol.Tests.Values;

public sealed class DecodeAsTests
{
    private static T As<T>(object? value, int inlineLimit = 64 * 1024)
    {
        var encoded = ValueCodec.Encode(value, "v", inlineLimit);
        var targets = ValueCodec.AllocateTargets(encoded.Tree);
        ValueWire.CopyBlobs(encoded, targets, 1 << 20);
        return ValueCodec.DecodeAs<T>(encoded.Tree, targets);
    }

    [Fact]
    public void Matrix_DecodesAsTheSameMatrixType()
    {
        var matrix = new[,] { { 1.0, 2.0 }, { 3.0, 4.0 } };

        Assert.Equal(matrix, As<double[,]>(matrix, inlineLimit: 0));
    }

    [Fact]
    public void Numbers_ConvertWhenTheyFit()
    {
        Assert.Equal(42, As<int>(42L));
        Assert.Equal(3.0, As<double>(3));
        Assert.Equal(7L, As<long>(7.0));
        Assert.Equal(255, As<byte>(255UL));
        Assert.Equal(2.5m, As<decimal>(2.5));
        Assert.Equal(5, As<int?>(5L));
        Assert.Null(As<int?>(null));
        Assert.Null(As<string?>(null));
        Assert.Equal(DayOfWeek.Monday, As<DayOfWeek>(1));
    }

    [Fact]
    public void LongOutOfIntRange_FailsNamingBothTypes()
    {
        var error = Assert.Throws<ValueConversionException>(() => As<int>(long.MaxValue));

        Assert.Contains("System.Int64", error.Message);
        Assert.Contains("System.Int32", error.Message);
        Assert.Contains("out of range", error.Message);
        Assert.Equal(typeof(long), error.SourceType);
        Assert.Equal(typeof(int), error.TargetType);
    }

    [Fact]
    public void ImpossibleConversions_Fail()
    {
        Assert.Throws<ValueConversionException>(() => As<int>("12"));
        Assert.Throws<ValueConversionException>(() => As<int>(2.5));
        Assert.Throws<ValueConversionException>(() => As<uint>(-1));
        Assert.Throws<ValueConversionException>(() => As<int>(null));
        Assert.Throws<ValueConversionException>(() => As<double[,]>(new[] { 1.0 }));
        Assert.Throws<ValueConversionException>(() => As<(int, int)>((1, 2, 3)));
        var nested = Assert.Throws<ValueConversionException>(() => As<List<int>>(new List<object> { 1, "two" }));
        Assert.Contains("System.Collections.Generic.List<System.Int32>", nested.Message);
        Assert.Contains("System.String", nested.Message);
    }

    [Fact]
    public void Lists_ConvertElementByElement()
    {
        Assert.Equal([1, 2, 3], As<List<int>>(new List<object> { 1L, 2, (short)3 }));
        Assert.Equal([1L, 2L], As<long[]>(new[] { 1, 2 }));
        Assert.Equal([1.0, 2.0], As<IReadOnlyList<double>>(new List<int> { 1, 2 }));
        Assert.Equal(["a"], As<string[]>(new[] { "a" }));
    }

    [Fact]
    public void Dictionaries_ConvertKeyAndValue()
    {
        var value = new Dictionary<object, object> { ["a"] = 1, ["b"] = 2.5f };

        var decoded = As<Dictionary<string, double>>(value);

        Assert.Equal(new Dictionary<string, double> { ["a"] = 1.0, ["b"] = 2.5 }, decoded);
        Assert.IsType<Dictionary<string, double>>(As<IDictionary<string, double>>(value));
    }

    [Fact]
    public void Tuples_ConvertItemByItem()
    {
        Assert.Equal((1, "x"), As<(int, string)>((1L, "x")));
        Assert.Equal(Tuple.Create(1.0, 'c'), As<Tuple<double, char>>((1, 'c')));
    }

    [Fact]
    public void Record_DecodesAsItself()
    {
        Assert.Equal(new Point(1, 2), As<Point>(new Point(1, 2)));
    }

    [Fact]
    public void ConvertTo_ReturnsTheSameInstance_WhenItAlreadyFits()
    {
        var array = new[] { 1, 2 };

        Assert.Same(array, ValueCodec.ConvertTo(array, typeof(int[])));
        Assert.Same(array, ValueCodec.ConvertTo(array, typeof(IEnumerable<int>)));
    }
}

namespace CapCluster.Protocol.Tests.Values;

public sealed class ScalarRoundTripTests
{
    public static TheoryData<object> Scalars() => new()
    {
        true, false,
        sbyte.MinValue, sbyte.MaxValue, byte.MaxValue,
        short.MinValue, ushort.MaxValue,
        int.MinValue, int.MaxValue, uint.MaxValue,
        long.MinValue, long.MaxValue, ulong.MaxValue, 0UL,
        float.NaN, float.PositiveInfinity, float.Epsilon, 1.5f,
        double.NaN, double.NegativeInfinity, double.PositiveInfinity, double.MaxValue, double.Epsilon, -1e-300,
        decimal.MaxValue, decimal.MinValue, 0.0000000000000000000000000001m, 1.2300m,
        'x', '\0', '\uffff',
        string.Empty, "héllo wörld 🌍",
    };

    [Theory]
    [MemberData(nameof(Scalars))]
    public void Scalar_RoundTrips_WithItsExactTypeAndValue(object value)
    {
        object? decoded = ValueWire.RoundTrip(value);

        Assert.NotNull(decoded);
        Assert.Equal(value.GetType(), decoded.GetType());
        Assert.Equal(value, decoded);
    }

    [Fact]
    public void LoneSurrogateChar_AndLongString_RoundTrip()
    {
        Assert.Equal((object)'\ud83c', ValueWire.RoundTrip('\ud83c'));
        string text = new('a', 100_000);
        Assert.Equal(text, ValueWire.RoundTrip(text));
    }

    [Fact]
    public void Null_RoundTripsAsNull()
    {
        Assert.Null(ValueWire.RoundTrip((object?)null));
    }

    [Fact]
    public void Decimal_KeepsItsScale()
    {
        Assert.Equal("1.2300", ((decimal)ValueWire.RoundTrip(1.2300m)!).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void NegativeZero_KeepsItsSign()
    {
        Assert.True(double.IsNegative((double)ValueWire.RoundTrip(-0.0)!));
        Assert.True(float.IsNegative((float)ValueWire.RoundTrip(-0.0f)!));
    }
}

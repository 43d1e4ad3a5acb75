using System.Text.Json;
using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;
using Google.Protobuf;

namespace CapCluster.Protocol.Tests.Values;

public sealed record Point(double X, double Y);

public sealed record Unregistered(int N);

public sealed record Shape(string Name, List<Point> Corners, Dictionary<string, int> Tags);

public sealed class MutableThing
{
    public int Count { get; set; }

    public string? Label { get; set; }

    public double[] Weights = [];
}

public sealed class JsonFallbackTests
{
    static JsonFallbackTests()
    {
        ValueTypes.Register<Point>();
        ValueTypes.Register<Shape>();
        ValueTypes.Register<MutableThing>();
    }

    [Fact]
    public void Record_RoundTrips_ToTheSameType()
    {
        var decoded = ValueWire.RoundTrip(new Point(1.5, -2));

        Assert.Equal(new Point(1.5, -2), Assert.IsType<Point>(decoded));
    }

    [Fact]
    public void Record_CarriesItsAssemblyQualifiedName()
    {
        var tree = ValueCodec.Encode(new Point(1, 2), "p").Tree;

        Assert.Equal(typeof(Point).AssemblyQualifiedName, tree.Json.TypeName);
    }

    [Fact]
    public void RecordWithNaN_AndNestedRecords_RoundTrip()
    {
        var shape = new Shape("tri", [new Point(0, double.NaN), new Point(1, double.PositiveInfinity)], new() { ["a"] = 1 });

        var decoded = Assert.IsType<Shape>(ValueWire.RoundTrip(shape));

        Assert.Equal("tri", decoded.Name);
        Assert.Equal(shape.Corners, decoded.Corners);
        Assert.Equal(shape.Tags, decoded.Tags);
    }

    [Fact]
    public void PlainClass_WithPublicFields_RoundTrips()
    {
        var thing = new MutableThing { Count = 3, Label = "x", Weights = [0.5, 1] };

        var decoded = Assert.IsType<MutableThing>(ValueWire.RoundTrip(thing));

        Assert.Equal(3, decoded.Count);
        Assert.Equal("x", decoded.Label);
        Assert.Equal([0.5, 1], decoded.Weights);
    }

    [Fact]
    public void FrameworkValueTypes_AndSets_RoundTripThroughJson()
    {
        var guid = Guid.NewGuid();
        var when = new DateTimeOffset(2026, 11, 21, 13, 0, 0, TimeSpan.FromHours(1));

        Assert.Equal(guid, ValueWire.RoundTrip(guid));
        Assert.Equal(when, ValueWire.RoundTrip(when));
        Assert.Equal(DayOfWeek.Friday, ValueWire.RoundTrip(DayOfWeek.Friday));
        Assert.Equal(new HashSet<int> { 1, 2 }, Assert.IsType<HashSet<int>>(ValueWire.RoundTrip(new HashSet<int> { 1, 2 })));
    }

    [Fact]
    public void UnknownType_DecodesAsJsonElement_ThatConvertsToADeclaredType()
    {
        var tree = ValueCodec.Encode(new Point(3, 4), "p").Tree;
        tree.Json.TypeName = "Elsewhere.Point, Elsewhere.Assembly, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null";

        var decoded = ValueCodec.Decode(Value.Parser.ParseFrom(tree.ToByteArray()));

        var element = Assert.IsType<JsonElement>(decoded);
        Assert.Equal(3, element.GetProperty("X").GetDouble());
        Assert.Equal(new Point(3, 4), ValueCodec.DecodeAs<Point>(tree));
    }

    [Fact]
    public void TypeResolver_IsAskedForTypesNotLoadedHere()
    {
        var tree = ValueCodec.Encode(new Point(3, 4), "p").Tree;
        tree.Json.TypeName = "Script.Point, ℛ*script-1";
        var previous = ValueCodec.TypeResolver;
        try
        {
            ValueCodec.TypeResolver = name => name == "Script.Point, ℛ*script-1" ? typeof(Point) : null;
            Assert.Equal(new Point(3, 4), ValueCodec.Decode(tree));
        }
        finally
        {
            ValueCodec.TypeResolver = previous;
        }
    }

    [Theory]
    [InlineData(typeof(FileInfo))]
    [InlineData(typeof(System.Text.StringBuilder))]
    [InlineData(typeof(Unregistered))]
    public void TreeNamingATypeNotAgreedTo_DecodesAsJsonElement_WithoutCreatingIt(Type named)
    {
        // 60 bytes naming StringBuilder with a huge Capacity once grew a receiver to 1.9 GB.
        var tree = new Value { Json = new JsonObject { TypeName = named.AssemblyQualifiedName, Utf8Json = ByteString.CopyFromUtf8("{\"Capacity\":2000000000,\"X\":1}") } };

        var element = Assert.IsType<JsonElement>(ValueCodec.Decode(tree));

        Assert.Equal(2000000000, element.GetProperty("Capacity").GetInt32());
    }

    [Fact]
    public void UnregisteredRecord_DecodesAsJsonElement_AndAsTheTypeWhenAskedForIt()
    {
        var tree = ValueCodec.Encode(new Unregistered(7), "u").Tree;

        Assert.IsType<JsonElement>(ValueCodec.Decode(tree));
        Assert.Equal(new Unregistered(7), ValueCodec.DecodeAs<Unregistered>(tree));
        Assert.False(ValueTypes.IsAgreed(typeof(Unregistered)));
        Assert.True(ValueTypes.IsAgreed(typeof(Dictionary<string, List<Point>>)));
        Assert.False(ValueTypes.IsAgreed(typeof(List<Unregistered>)));
    }

    [Fact]
    public void JsonOverTheSizeOrDepthLimit_IsMalformed()
    {
        var large = new Value { Json = new JsonObject { TypeName = "X, Y", Utf8Json = ByteString.CopyFromUtf8("\"" + new string('a', (16 << 20) + 1) + "\"") } };
        var deep = new Value { Json = new JsonObject { TypeName = "X, Y", Utf8Json = ByteString.CopyFromUtf8(new string('[', 100) + new string(']', 100)) } };

        Assert.Contains("over the limit", Assert.Throws<MalformedValueException>(() => ValueCodec.Decode(large)).Message);
        Assert.Contains("nested deeper than 64", Assert.Throws<MalformedValueException>(() => ValueCodec.Decode(deep)).Message);
    }

    [Fact]
    public void RegisteringATypeWithNoJsonForm_IsRefusedSayingWhy() =>
        Assert.Contains("cannot travel as a value", Assert.Throws<ArgumentException>(() => ValueTypes.Register<FileInfo>()).Message);
}

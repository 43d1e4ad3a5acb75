using CapCluster.Engine.Internal.Scripting;

namespace CapCluster.Engine.Tests.Scripting;

public sealed class CSharpTypeNamesTests
{
    private static string? Name(Type type) => CSharpTypeNames.TryName(type, _ => null);

    [Theory]
    [InlineData(typeof(int), "global::System.Int32")]
    [InlineData(typeof(double[,]), "global::System.Double[,]")]
    [InlineData(typeof(int[][,]), "global::System.Int32[][,]")]
    [InlineData(typeof(int[,][]), "global::System.Int32[,][]")]
    [InlineData(typeof(List<object?>), "global::System.Collections.Generic.List<global::System.Object>")]
    [InlineData(typeof(Dictionary<object, object?>), "global::System.Collections.Generic.Dictionary<global::System.Object, global::System.Object>")]
    [InlineData(typeof((int, string)), "global::System.ValueTuple<global::System.Int32, global::System.String>")]
    [InlineData(typeof(Dictionary<int, string>.KeyCollection), "global::System.Collections.Generic.Dictionary<global::System.Int32, global::System.String>.KeyCollection")]
    [InlineData(typeof(int?), "global::System.Nullable<global::System.Int32>")]
    public void TryName_NameableType_WritesItsCSharpName(Type type, string expected) =>
        Assert.Equal(expected, Name(type));

    [Fact]
    public void TryName_NonPublicOrOpenType_IsNull()
    {
        Assert.Null(Name(Enumerable.Range(0, 2).GetType()));
        Assert.Null(Name(typeof(List<>)));
        Assert.Null(Name(typeof(List<Private>)));
    }

    private sealed class Private;
}

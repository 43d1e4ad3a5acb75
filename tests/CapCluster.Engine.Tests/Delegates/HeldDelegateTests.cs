using CapCluster.Client;
using CapCluster.Client.Internal.Delegates;
using CapCluster.Engine.Internal.Delegates;
using CapCluster.Engine.Tests.ShippedCode;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Engine.Tests.Delegates;

/// <summary>A lambda that calls a delegate held in a variable it captures ships that delegate too, rebuilt on the engine.</summary>
public sealed class HeldDelegateTests
{
    [Fact]
    public void HeldDelegates_OfEveryShape_RunOnTheEngineWithTheirOwnCapturedValues()
    {
        using var runner = new DelegateRunner();

        Assert.Equal(4 * 3 + 1, Shipping.RoundTrip(runner, HeldDelegates.Capturing(k: 3), 4));
        Assert.Equal(4 * 4 + 1, Shipping.RoundTrip(runner, HeldDelegates.NonCapturing(), 4));
        Assert.Equal(4 * 4 * 2, Shipping.RoundTrip(runner, HeldDelegates.StaticMethod(), 4));
        Assert.Equal((4 + 5) * 2 - 1, Shipping.RoundTrip(runner, HeldDelegates.Chain(k: 5), 4));
        var inLoop = HeldDelegates.InLoop(scale: 3, count: 2);
        Assert.Equal(4 * 3 + 10, Shipping.RoundTrip(runner, inLoop[1], 4));
        Assert.Equal(-4, Shipping.RoundTrip(runner, HeldDelegates.Unset(), 4));
    }

    [Fact]
    public void Package_HeldDelegates_AreNamedByPath_TheirValuesUnderIt()
    {
        var chain = DelegatePackager.Package(HeldDelegates.Chain(k: 5));
        var inLoop = DelegatePackager.Package(HeldDelegates.InLoop(scale: 3, count: 1)[0]);
        var nonCapturing = DelegatePackager.Package(HeldDelegates.NonCapturing());

        Assert.Equal(["middle", "middle/inner"], chain.Delegates.Select(d => d.FieldName).Order());
        Assert.Equal(["middle/inner/k"], chain.Captured.Select(c => c.FieldName));
        Assert.All(chain.DelegateMessages(), d => Assert.Equal(0, d.Assembly));
        var held = Assert.Single(inLoop.Delegates);
        Assert.StartsWith("CS$<>8__locals", held.FieldName, StringComparison.Ordinal);
        Assert.EndsWith(".f", held.FieldName, StringComparison.Ordinal);
        Assert.Contains(inLoop.Captured, c => c.FieldName == held.FieldName + "/scale" && Equals(c.Value, 3));
        Assert.EndsWith("+<>c", Assert.Single(nonCapturing.Delegates).DeclaringTypeName, StringComparison.Ordinal);
        Assert.Empty(nonCapturing.Captured);
    }

    [Fact]
    public void Package_RecursiveLambda_IsRefusedSayingToWriteAFunction()
    {
        var error = Assert.Throws<DelegateNotShippableException>(() => DelegatePackager.Package(HeldDelegates.Recursive()));

        Assert.Contains("captured variable 'factorial' holds a delegate that reaches itself", error.Message, StringComparison.Ordinal);
        Assert.Contains("local or static function", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_HeldFrameworkMethod_IsRefusedSayingToHoldALambda()
    {
        var error = Assert.Throws<DelegateNotShippableException>(() => DelegatePackager.Package(HeldDelegates.Framework()));

        Assert.Contains("captured variable 'f' holds a delegate to the framework's System.Math.Sqrt", error.Message, StringComparison.Ordinal);
        Assert.Contains("x => Math.Sqrt(x)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_HeldDelegateThatCannotShip_IsRefusedNamingTheVariableAndWhy()
    {
        var error = Assert.Throws<DelegateNotShippableException>(() => DelegatePackager.Package(HeldDelegates.ObjectMethod(new Counter { Start = 2 })));

        Assert.Contains("captured variable 'next' holds a delegate that cannot ship", error.Message, StringComparison.Ordinal);
        Assert.Contains("instance methods on objects cannot be shipped", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invoke_ForgedHeldDelegates_AreRefusedSayingWhatIsWrong()
    {
        using var runner = new DelegateRunner();
        var package = DelegatePackager.Package(HeldDelegates.Capturing(k: 3));
        Assert.Equal(7, Shipping.RoundTrip(runner, HeldDelegates.Capturing(k: 3), 2));
        var held = Assert.Single(package.DelegateMessages());
        var loadedFrom = typeof(Functions).GetMethod(nameof(Functions.LoadedFrom))!;

        var outside = Invoke(runner, package, [.. package.Captured.Select(c => (c.FieldName, c.Value))], [new CapturedDelegate(held) { Assembly = 3 }]);
        var orphan = Invoke(runner, package, [("nowhere/k", 3)], [held]);
        var wrongType = Invoke(runner, package, [], [new CapturedDelegate(held)
        {
            DeclaringType = typeof(Functions).FullName, MethodToken = loadedFrom.MetadataToken, IsStatic = true,
        }]);

        Assert.Contains($"the delegate in captured variable '{held.Name}' names assembly 3 of a call that ships 1", outside.Message, StringComparison.Ordinal);
        Assert.Contains("captured variable 'nowhere/k' names no delegate shipped with it", orphan.Message, StringComparison.Ordinal);
        Assert.Contains($"captured variable '{held.Name}' cannot hold {typeof(Functions).FullName}.LoadedFrom as a System.Func`2", wrongType.Message, StringComparison.Ordinal);
    }

    private static CapClusterException Invoke(
        DelegateRunner runner, DelegatePackage package, IReadOnlyList<(string, object?)> captured, IReadOnlyList<CapturedDelegate> delegates) =>
        Assert.Throws<CapClusterException>(() => runner.Invoke(
            [.. package.Assemblies.Select(a => a.Hash)], package.DeclaringTypeName, package.MethodToken, package.IsStatic,
            captured, [2], Shipping.Identity, delegates));
}

using CapCluster.Client;
using CapCluster.Client.Internal.Delegates;
using CapCluster.Engine.Internal.Delegates;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace CapCluster.Engine.Tests.Delegates;

/// <summary>
/// Lambdas typed in a C# script (what the console does with its inputs): compiled in memory, they ship from the image
/// their host registers in <see cref="InMemoryAssemblies"/>, a second emit of the same compilation.
/// </summary>
public sealed class ScriptDelegateTests
{
    /// <summary>Runs <paramref name="inputs"/> one after another, as the console does, registering each one's image.</summary>
    private static Task<object> RunAsync(params string[] inputs) => RunAsync(null, inputs);

    private static async Task<object> RunAsync(ScriptGlobals? globals, params string[] inputs)
    {
        ScriptState<object>? state = null;
        foreach (var input in inputs)
        {
            var script = state is null ? CSharpScript.Create(input, globalsType: globals?.GetType()) : state.Script.ContinueWith(input);
            var compilation = script.GetCompilation();
            InMemoryAssemblies.Register(compilation.AssemblyName!, () => Emit(compilation));
            state = state is null ? await script.RunAsync(globals) : await script.RunFromAsync(state);
        }

        return state!.ReturnValue;
    }

    [Fact]
    public async Task Lambda_CallingAClassOfAnEarlierInput_RunsOnTheEngine_WithBothInputsShipped()
    {
        var function = (Func<int, int>)await RunAsync(
            "public static class Maths { public static int Twice(int x) => 2 * x; }",
            "(System.Func<int, int>)(x => Maths.Twice(x) + 1)");
        using var runner = new DelegateRunner();

        Assert.Equal(9, Shipping.RoundTrip(runner, function, 4));
        Assert.Equal(2, DelegatePackager.Package(function).Assemblies.Count(a => a.Name.StartsWith("ℛ*", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Lambda_OfAScriptWithTheHostsGlobals_ShipsOnlyTheInputs_NotWhatLiesInTheHostsFolder()
    {
        // The console's case: its globals type, Roslyn and its other libraries lie in its folder, and each input refers to them all.
        InMemoryAssemblies.RegisterHostFolder(AppContext.BaseDirectory);
        var function = (Func<int, int>)await RunAsync(new ScriptGlobals(), "(System.Func<int, int>)(x => x - 1)");

        Assert.All(DelegatePackager.Package(function).Assemblies, a => Assert.StartsWith("ℛ*", a.Name, StringComparison.Ordinal));
        using var runner = new DelegateRunner();
        Assert.Equal(3, Shipping.RoundTrip(runner, function, 4));
    }

    [Fact]
    public async Task Lambda_CapturingALocalOfABlock_ShipsTheLocalsValue()
    {
        var function = (Func<int, int>)await RunAsync(
            "System.Func<int, int> f; { var o = 3; f = x => x + o; } f");
        using var runner = new DelegateRunner();

        Assert.Equal(7, Shipping.RoundTrip(runner, function, 4));
    }

    [Fact]
    public async Task Lambda_ReadingVariablesOfItsInputAndAnEarlierOne_ShipsTheirValues_NotTheRestOfTheScript()
    {
        var function = (Func<int, int>)await RunAsync(
            "var offset = 7; var unread = new System.Random();",
            "var k = 2; (System.Func<int, int>)(x => x * k + offset)");
        using var runner = new DelegateRunner();

        Assert.Equal(15, Shipping.RoundTrip(runner, function, 4));
        Assert.Equal(["<Submission#0>.offset", "k"], DelegatePackager.Package(function).Captured.Select(c => c.FieldName).Order());
    }

    [Fact]
    public async Task Lambda_CallingAFunctionOfAnEarlierInput_ShipsTheVariablesThatFunctionReads()
    {
        var function = (Func<int, int>)await RunAsync(
            "var factor = 3; int Scale(int v) => v * factor;",
            "(System.Func<int, int>)(x => Scale(x) + 1)");
        using var runner = new DelegateRunner();

        Assert.Equal(13, Shipping.RoundTrip(runner, function, 4));
    }

    [Theory]
    [InlineData("(System.Func<int, int>)(x => Cube(x) + 1)")]
    [InlineData("System.Func<int, int> f; { var o = 1; f = x => Cube(x) + o; } f")]
    public async Task Lambda_CallingAFunctionOfAnEarlierInput_ThatReadsNoVariable_RunsOnTheEngine(string input)
    {
        var function = (Func<int, int>)await RunAsync("var unread = 4; int Cube(int v) => v * v * v;", "var other = 5;", input);
        using var runner = new DelegateRunner();

        Assert.DoesNotContain(DelegatePackager.Package(function).Captured, c => c.VariableName != "o");
        Assert.Equal(9, Shipping.RoundTrip(runner, function, 2));
    }

    [Fact]
    public async Task Lambda_InABlock_ReadingALocalAndAVariableOfTheScript_ShipsBoth()
    {
        var function = (Func<int, int>)await RunAsync(
            "var offset = 100;",
            "System.Func<int, int> f; { var o = 3; f = x => x + o + offset; } f");
        using var runner = new DelegateRunner();

        Assert.Equal(107, Shipping.RoundTrip(runner, function, 4));
    }

    [Theory]
    [InlineData("(System.Func<int, int>)(x => x + 2)", "the code of its method")]
    [InlineData("(System.Func<int, int>)(y => y + 1)", "its metadata")]
    public async Task Image_OfOtherCode_UnderTheLoadedAssemblysNames_IsRefused_NotRun(string other, string difference)
    {
        var script = CSharpScript.Create("(System.Func<int, int>)(x => x + 1)");
        var loaded = (CSharpCompilation)script.GetCompilation();
        InMemoryAssemblies.Register(loaded.AssemblyName!, () => EmitAs(loaded, other));
        var function = (Func<int, int>)(await script.RunAsync()).ReturnValue;

        var e = Assert.Throws<DelegateNotShippableException>(() => DelegatePackager.Package(function));

        Assert.Contains($"the image its host gave for assembly '{loaded.AssemblyName}' is not the assembly that runs here: {difference}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lambda_OfAScriptWithDebugInformation_ShipsFromAnEmitWithSymbols_NotFromOneWithout()
    {
        // The console emits debug information for its inputs; an emit without a PDB stream has other metadata.
        var options = ScriptOptions.Default.WithEmitDebugInformation(true);
        var withSymbols = CSharpScript.Create("(System.Func<int, int>)(x => x * 3)", options);
        var withoutSymbols = CSharpScript.Create("(System.Func<int, int>)(x => x * 3)", options);
        InMemoryAssemblies.Register(withSymbols.GetCompilation().AssemblyName!, () => Emit(withSymbols.GetCompilation(), new MemoryStream()));
        InMemoryAssemblies.Register(withoutSymbols.GetCompilation().AssemblyName!, () => Emit(withoutSymbols.GetCompilation()));
        using var runner = new DelegateRunner();

        Assert.Equal(12, Shipping.RoundTrip(runner, (Func<int, int>)(await withSymbols.RunAsync()).ReturnValue, 4));
        var unmatched = (Func<int, int>)(await withoutSymbols.RunAsync()).ReturnValue;
        var e = Assert.Throws<DelegateNotShippableException>(() => DelegatePackager.Package(unmatched));
        Assert.Contains("its metadata", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lambda_OfAnUnregisteredScript_ShipsFromAResolver_UntilTheResolverIsDisposed()
    {
        var resolved = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var first = CSharpScript.Create("(System.Func<int, int>)(x => x * 10)");
        var second = CSharpScript.Create("(System.Func<int, int>)(x => x * 20)");
        using (InMemoryAssemblies.RegisterResolver(assembly =>
        {
            resolved.Enqueue(assembly.GetName().Name!);
            return assembly.GetName().Name == first.GetCompilation().AssemblyName ? Emit(first.GetCompilation()) : null;
        }))
        {
            var function = (Func<int, int>)(await first.RunAsync()).ReturnValue;
            using var runner = new DelegateRunner();

            Assert.Equal(30, Shipping.RoundTrip(runner, function, 3));
            Assert.Equal(30, Shipping.RoundTrip(runner, function, 3));
            // Other tests of this process may ask too: only this test's assemblies count.
            Assert.Single(resolved, first.GetCompilation().AssemblyName!);
        }

        var unresolved = (Func<int, int>)(await second.RunAsync()).ReturnValue;
        var e = Assert.Throws<DelegateNotShippableException>(() => DelegatePackager.Package(unresolved));
        Assert.Contains("whose host gave no image of it to ship", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(second.GetCompilation().AssemblyName!, resolved);
    }

    private static byte[] Emit(Compilation compilation, MemoryStream? symbols = null)
    {
        using var image = new MemoryStream();
        Assert.True(compilation.Emit(image, symbols).Success);
        return image.ToArray();
    }

    /// <summary><paramref name="code"/> compiled under the names of <paramref name="loaded"/>: what a host that got it wrong would give.</summary>
    private static byte[] EmitAs(CSharpCompilation loaded, string code)
    {
        var other = (CSharpCompilation)CSharpScript.Create(code).GetCompilation();
        return Emit(other.WithAssemblyName(loaded.AssemblyName).WithOptions(other.Options.WithScriptClassName(loaded.Options.ScriptClassName)));
    }
}

/// <summary>A host's globals type, as the console's ConsoleGlobals: the inputs refer to its assembly.</summary>
public sealed class ScriptGlobals
{
    public int Base { get; init; } = 5;
}

using CapCluster.Client;
using CapCluster.Client.Internal.Delegates;
using CapCluster.Engine.Internal.Delegates;
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
            InMemoryAssemblies.Register(compilation.AssemblyName!, () =>
            {
                using var image = new MemoryStream();
                Assert.True(compilation.Emit(image).Success);
                return image.ToArray();
            });
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
    public async Task Lambda_ReadingAVariableOfTheScript_IsRefusedSayingToPassItAsAnArgument()
    {
        var function = (Func<int, int>)await RunAsync("var offset = 7;", "(System.Func<int, int>)(x => x + offset)");

        var e = Assert.Throws<DelegateNotShippableException>(() => DelegatePackager.Package(function));

        Assert.Contains("it reads variables of the script", e.Message, StringComparison.Ordinal);
        Assert.Contains("pass their values as arguments", e.Message, StringComparison.Ordinal);
    }
}

/// <summary>A host's globals type, as the console's ConsoleGlobals: the inputs refer to its assembly.</summary>
public sealed class ScriptGlobals
{
    public int Base { get; init; } = 5;
}

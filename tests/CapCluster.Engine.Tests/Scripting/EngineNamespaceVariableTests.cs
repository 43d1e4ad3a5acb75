using CapCluster.Engine.Internal.Scripting;

namespace CapCluster.Engine.Tests.Scripting;

[Collection(ScriptingCollection.Name)]
public sealed class EngineNamespaceVariableTests
{
    [Fact]
    public async Task Set_Value_IsSeenByCodeWithItsRuntimeType()
    {
        using var ns = new EngineNamespace();
        ns.Set("a", 5);
        Assert.Equal(10, await ns.Eval("a * 2"));
        ns.Set("arr", new double[] { 1, 2 });
        Assert.Equal(3.0, await ns.Eval("arr.Sum()"));
        Assert.Equal("System.Int32", await ns.Eval("a.GetType().FullName + \"\""));
    }

    [Fact]
    public async Task Set_ExistingNameWithAnotherType_ReplacesTheVariable()
    {
        using var ns = new EngineNamespace();
        ns.Set("a", 5);
        Assert.Equal(6, await ns.Eval("a + 1"));
        ns.Set("a", "text");
        Assert.Equal("TEXT", await ns.Eval("a.ToUpperInvariant()"));
        await ns.Eval("var b = 1;");
        ns.Set("b", 2.5);
        Assert.Equal(5.0, await ns.Eval("b * 2"));
    }

    [Fact]
    public async Task Set_SameType_AssignsInPlaceWithoutCompiling()
    {
        using var ns = new EngineNamespace();
        ns.Set("a", 1);
        var compiled = ns.SubmissionCount;
        ns.Set("a", 2);
        Assert.Equal(compiled, ns.SubmissionCount);
        Assert.Equal(3, await ns.Eval("a + 1"));
    }

    [Fact]
    public async Task Set_Null_DeclaresAnObjectVariable()
    {
        using var ns = new EngineNamespace();
        ns.Set("nothing", null);
        Assert.Equal(true, await ns.Eval("nothing is null"));
        await ns.Eval("nothing = 3;");
        Assert.True(ns.TryGet("nothing", out var value));
        Assert.Equal(3, value);
    }

    [Fact]
    public async Task CodeReassigningAPushedVariable_IsSeenByTryGet()
    {
        using var ns = new EngineNamespace();
        ns.Set("a", 5);
        await ns.Eval("a = a + 37;");
        Assert.True(ns.TryGet("a", out var value));
        Assert.Equal(42, value);
    }

    [Fact]
    public async Task TryGet_VariableDeclaredByCode_ReturnsItsCurrentValue()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("var x = 5; var list = new List<int> { 1, 2 };");
        Assert.True(ns.TryGet("x", out var x));
        Assert.Equal(5, x);
        Assert.True(ns.TryGet("list", out var list));
        Assert.Equal([1, 2], Assert.IsType<List<int>>(list));
        Assert.False(ns.TryGet("missing", out var missing));
        Assert.Null(missing);
    }

    [Fact]
    public async Task PushedContainers_ArePulledAsTheSameObjectAndUsableFromCode()
    {
        using var ns = new EngineNamespace();
        var matrix = new double[,] { { 1, 2 }, { 3, 4 } };
        var jagged = new int[][,] { new int[,] { { 7 } } };
        var list = new List<object?> { 1, "two", null };
        var map = new Dictionary<object, object?> { ["k"] = 1, [2] = null };
        var tuple = (1, "one", 1.5);
        var boxedTuple = (object)tuple;
        ns.Set("m", matrix);
        ns.Set("j", jagged);
        ns.Set("l", list);
        ns.Set("d", map);
        ns.Set("t", boxedTuple);

        Assert.Equal(4.0, await ns.Eval("m[1, 1]"));
        Assert.Equal(7, await ns.Eval("j[0][0, 0]"));
        Assert.Equal(3, await ns.Eval("l.Count"));
        Assert.Equal(1, await ns.Eval("d[\"k\"]"));
        Assert.Equal("one", await ns.Eval("t.Item2"));

        foreach (var (name, value) in new (string, object)[] { ("m", matrix), ("j", jagged), ("l", list), ("d", map) })
        {
            Assert.True(ns.TryGet(name, out var pulled));
            Assert.Same(value, pulled);
        }
        Assert.True(ns.TryGet("t", out var pulledTuple));
        Assert.Equal(tuple, pulledTuple);
    }

    [Fact]
    public async Task Set_NonPublicRuntimeType_FallsBackToANameableType()
    {
        using var ns = new EngineNamespace();
        ns.Set("range", Enumerable.Range(1, 3));
        Assert.Equal(6, await ns.Eval("range.Sum()"));
        ns.Set("hidden", new Hidden());
        Assert.Equal(true, await ns.Eval("hidden is not null"));
    }

    [Fact]
    public async Task Set_ValueOfATypeFromAnUnreferencedAssembly_IsTyped()
    {
        using var ns = new EngineNamespace();
        ns.Set("visible", new VisibleRecord(4));
        Assert.Equal(4, await ns.Eval("visible.Value"));
    }

    [Fact]
    public async Task Set_ValueOfATypeDeclaredByCode_KeepsThatType()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("record P(int A);");
        var p = await ns.Eval("new P(3)");
        ns.Set("p", p);
        Assert.Equal(3, await ns.Eval("p.A"));
    }

    [Theory]
    [InlineData("1abc")]
    [InlineData("class")]
    [InlineData("a b")]
    [InlineData("")]
    public void Set_InvalidName_ThrowsNamingIt(string name)
    {
        using var ns = new EngineNamespace();
        var error = Assert.Throws<ArgumentException>(() => ns.Set(name, 1));
        Assert.Contains($"'{name}'", error.Message);
    }

    [Fact]
    public async Task Keys_ListsDeclaredAndPushedVariablesSorted_WithoutCompilerNames()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("var zeta = 1; var alpha = 2; int Helper() => 3; record R(int Q);");
        ns.Set("mid", 1.0);
        await ns.Eval("zeta + alpha");
        Assert.Equal(["alpha", "mid", "zeta"], ns.Keys);
    }

    [Fact]
    public async Task Delete_RemovesTheVariableFromCodeAndKeepsTheRest()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("var x = 1; var y = 2; record P(int A); var p = new P(5);");
        Assert.True(ns.Delete("x"));
        Assert.False(ns.Delete("x"));
        Assert.Equal(["p", "y"], ns.Keys);
        var gone = await ns.Run("x");
        Assert.True(gone.Error!.IsCompileError);
        Assert.Equal(2, await ns.Eval("y"));
        Assert.Equal(5, await ns.Eval("p.A"));
        Assert.Equal(8, await ns.Eval("new P(8).A"));
    }

    [Fact]
    public async Task Reset_ForgetsVariablesTypesAndUsings_AndKeepsCounting()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("using System.Text;\nvar x = 1; record P(int A);");
        ns.Set("pushed", 2);
        ns.Reset();

        Assert.Empty(ns.Keys);
        Assert.True((await ns.Run("x")).Error!.IsCompileError);
        Assert.True((await ns.Run("new P(1)")).Error!.IsCompileError);
        Assert.True((await ns.Run("new StringBuilder()")).Error!.IsCompileError);
        Assert.Equal(3, await ns.Eval("new List<int> { 1, 2 }.Sum()"));
        Assert.Equal(5, ns.History(5)!.ExecutionCount);
    }

    [Fact]
    public async Task VariableCalls_FromAnotherThreadDuringAnExecute_WaitForIt()
    {
        using var ns = new EngineNamespace();
        ns.Set("counter", 0);
        var gate = new TaskCompletionSource();
        ns.Set("gate", gate);
        var running = ns.Run("for (var i = 0; i < 1000; i++) { counter++; if (i == 10) gate.SetResult(); }");
        await gate.Task.WaitAsync(NamespaceTestExtensions.Timeout);
        var pulled = await Task.Run(() => ns.TryGet("counter", out var v) ? v : null).WaitAsync(NamespaceTestExtensions.Timeout);
        Assert.True((await running).Succeeded);
        Assert.Equal(1000, pulled);

        var writers = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 50; i++)
            {
                ns.Set($"v{t}", i);
                Assert.True(ns.TryGet($"v{t}", out _));
                _ = ns.Keys;
            }
        }));
        await Task.WhenAll(writers).WaitAsync(NamespaceTestExtensions.Timeout);
        Assert.Equal(49, await ns.Eval("v0 + v1 + v2 + v3 - 3 * 49"));
    }

    private sealed class Hidden;
}

public sealed record VisibleRecord(int Value);

using CapCluster.Engine.Internal.Scripting;

namespace CapCluster.Engine.Tests.Scripting;

[Collection(ScriptingCollection.Name)]
public sealed class EngineNamespaceRebaseTests
{
    private static EngineNamespace Small() => new(new NamespaceOptions { RebaseEvery = 5 });

    private static async Task PastARebase(EngineNamespace ns)
    {
        var generation = ns.Generation;
        for (var i = 0; ns.Generation == generation; i++)
        {
            Assert.True(i < 20, "no rebase happened");
            await ns.Eval($"var filler = {i};");
        }
    }

    [Fact]
    public async Task Rebase_RecordDeclaredInTheFirstExecute_StillWorks()
    {
        using var ns = Small();
        await ns.Eval("record P(int A) { public int Twice => 2 * A; }");
        await PastARebase(ns);
        Assert.Equal(6, await ns.Eval("new P(3).Twice"));
        Assert.Equal(new[] { "filler" }, ns.Keys);
    }

    [Fact]
    public async Task Rebase_CarriesVariablesWithTheirTypesAndValues()
    {
        using var ns = Small();
        var matrix = new double[,] { { 1, 2 } };
        ns.Set("m", matrix);
        await ns.Eval("var count = 41; object boxed = 1; IEnumerable<int> seq = new List<int> { 1, 2 };");
        await PastARebase(ns);

        Assert.Equal(42, await ns.Eval("++count"));
        Assert.Equal("text", await ns.Eval("boxed = \"text\"; boxed"));
        Assert.Equal(3, await ns.Eval("seq.Sum()"));
        Assert.True(ns.TryGet("m", out var pulled));
        Assert.Same(matrix, pulled);
    }

    [Fact]
    public async Task Rebase_MethodsUsingVariablesAndUsings_AreReplayed()
    {
        using var ns = Small();
        await ns.Eval("using System.Text;\nvar factor = 3;\nint Scale(int v) => v * factor;");
        await ns.Eval("factor = 4;");
        await PastARebase(ns);
        Assert.Equal(8, await ns.Eval("Scale(2)"));
        Assert.Equal("x", await ns.Eval("new StringBuilder(\"x\").ToString()"));
        var failure = await ns.Run("\n\nthrow new Exception(\"late\");");
        Assert.Equal(3, failure.Error!.Line);
    }

    [Fact]
    public async Task Rebase_ValueOfATypeDeclaredBeforeIt_KeepsItsMembersThroughDynamic()
    {
        using var ns = Small();
        await ns.Eval("record P(int A); var p = new P(5);");
        await PastARebase(ns);
        Assert.Equal(5, await ns.Eval("p.A"));
        Assert.Equal(7, await ns.Eval("new P(7).A"));
    }

    [Fact]
    public async Task Rebase_DeclarationThatNoLongerCompiles_IsDroppedWithANote()
    {
        using var ns = Small();
        await ns.Eval("var k = 2; var kept = 1;");
        await ns.Eval("int K() => k;");
        Assert.True(ns.Delete("k"));
        var next = await ns.Run("kept");
        Assert.Equal(1, next.Value);
        Assert.Contains("In[2]", next.Stderr);
        Assert.Contains("CS0103", next.Stderr);
        Assert.True((await ns.Run("K()")).Error!.IsCompileError);
    }

    [Fact]
    public async Task Rebase_DynamicVariable_StaysDynamic()
    {
        using var ns = Small();
        await ns.Eval("dynamic d = 1;");
        await PastARebase(ns);
        Assert.Equal("ab", await ns.Eval("d = \"a\"; d + \"b\""));
    }

    [Fact]
    public async Task Rebase_OldChainsUnload()
    {
        var weak = await RunAndDropAChain();
        for (var i = 0; i < 10 && weak.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(weak.IsAlive, "the first chain's load context did not unload");
    }

    private static async Task<WeakReference> RunAndDropAChain()
    {
        using var ns = Small();
        await ns.Eval("record P(int A); var x = 1;");
        var type = (await ns.Eval("new P(1)"))!.GetType();
        var weak = new WeakReference(System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(type.Assembly));
        await PastARebase(ns);
        await PastARebase(ns);
        return weak;
    }
}

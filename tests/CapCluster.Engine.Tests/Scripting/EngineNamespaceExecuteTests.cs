using CapCluster.Engine.Internal.Scripting;

namespace CapCluster.Engine.Tests.Scripting;

[Collection(ScriptingCollection.Name)]
public sealed class EngineNamespaceExecuteTests
{
    [Fact]
    public async Task Execute_DeclaredVariable_IsSeenByTheNextExecute()
    {
        using var ns = new EngineNamespace();
        var first = await ns.Run("var x = 5;");
        Assert.True(first.Succeeded);
        Assert.False(first.HasValue);

        var second = await ns.Run("x + 1");
        Assert.True(second.HasValue);
        Assert.Equal(6, second.Value);
        Assert.Equal(2, second.ExecutionCount);
    }

    [Fact]
    public async Task Execute_StatementWithoutTrailingExpression_HasNoValue()
    {
        using var ns = new EngineNamespace();
        var outcome = await ns.Run("var y = 2; y++;");
        Assert.True(outcome.Succeeded);
        Assert.False(outcome.HasValue);
        Assert.Null(outcome.Value);
        var voidCall = await ns.Run("Console.WriteLine(y)");
        Assert.False(voidCall.HasValue);
        Assert.Equal("3\n", voidCall.Stdout.Replace("\r\n", "\n"));
    }

    [Fact]
    public async Task Execute_TypesMethodsAndUsings_AreUsableLater()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("record P(int A);");
        await ns.Eval("class Counter { public int N; public int Next() => ++N; }");
        await ns.Eval("int Twice(int v) => 2 * v;");
        await ns.Eval("using System.Text;");

        Assert.Equal(7, await ns.Eval("new P(7).A"));
        Assert.Equal(2, await ns.Eval("var c = new Counter(); c.Next(); c.Next()"));
        Assert.Equal(42, await ns.Eval("Twice(21)"));
        Assert.Equal("ab", await ns.Eval("new StringBuilder(\"a\").Append('b').ToString()"));
    }

    [Fact]
    public async Task Execute_AsyncCode_ReturnsTheAwaitedValue()
    {
        using var ns = new EngineNamespace();
        Assert.Equal(42, await ns.Eval("await Task.Delay(1); 42"));
        Assert.Equal("done", await ns.Eval("await Task.Run(() => \"done\")"));
    }

    [Fact]
    public async Task Execute_ConsoleOutput_IsCapturedPerExecuteAndNotLeaked()
    {
        using var ns = new EngineNamespace();
        var realOut = Console.Out;
        var realError = Console.Error;
        var leakedOut = new StringWriter();
        var leakedError = new StringWriter();
        Console.SetOut(leakedOut);
        Console.SetError(leakedError);
        try
        {
            var first = await ns.Run("Console.WriteLine(\"out one\"); Console.Error.WriteLine(\"err one\");");
            var second = await ns.Run("Console.Write(\"two\"); await Task.Run(() => Console.Write(\" from a task\")); new System.Threading.Thread(() => Console.Error.Write(\"thread\")).Start(); await Task.Delay(50);");

            Assert.True(second.Succeeded, second.Error?.Message);
            Assert.Equal("out one\n", first.Stdout.Replace("\r\n", "\n"));
            Assert.Equal("err one\n", first.Stderr.Replace("\r\n", "\n"));
            Assert.Equal("two from a task", second.Stdout);
            Assert.Equal("", leakedOut.ToString());
            Assert.Equal("", leakedError.ToString());
            Console.Write("restored");
            Console.Error.Write("restored");
            Assert.Equal("restored", leakedOut.ToString());
            Assert.Equal("restored", leakedError.ToString());
        }
        finally
        {
            Console.SetOut(realOut);
            Console.SetError(realError);
        }
    }

    [Fact]
    public async Task Execute_RuntimeException_ReportsTypeMessageAndLineInTheSubmission()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("var kept = 1;");
        var outcome = await ns.Run("var a = 1;\nthrow new InvalidOperationException(\"boom\");");

        Assert.False(outcome.Succeeded);
        var error = outcome.Error!;
        Assert.False(error.IsCompileError);
        Assert.Equal("System.InvalidOperationException", error.Type);
        Assert.Equal("boom", error.Message);
        Assert.Equal(2, error.Line);
        Assert.Contains("In[2]:line 2", error.StackTrace);
        Assert.Equal(2, outcome.ExecutionCount);
        Assert.Equal(2, await ns.Eval("kept + 1"));
    }

    [Fact]
    public async Task Execute_ExceptionInAMethodDeclaredEarlier_PointsAtTheCallingLine()
    {
        using var ns = new EngineNamespace(new NamespaceOptions { Optimize = false });
        await ns.Eval("int Divide(int a, int b) => a / b;");
        var outcome = await ns.Run("var z = 0;\n\nDivide(1, z)");
        Assert.Equal("System.DivideByZeroException", outcome.Error!.Type);
        Assert.Equal(3, outcome.Error.Line);
        Assert.Contains("In[1]:line 1", outcome.Error.StackTrace);
    }

    [Fact]
    public async Task Execute_CompileError_GivesPositionAndAllErrors_AndTheNamespaceStaysUsable()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("var x = 1;");
        var outcome = await ns.Run("var ok = 1;\n    y + 1;\nz");

        var error = outcome.Error!;
        Assert.True(error.IsCompileError);
        Assert.Equal(RemoteFailure.CompilationErrorType, error.Type);
        Assert.Equal(2, error.Line);
        Assert.Equal(5, error.Column);
        var lines = error.Message.Split('\n');
        Assert.Contains("(2,5): error CS0103: The name 'y' does not exist in the current context", lines);
        Assert.Contains(lines, l => l.StartsWith("(3,1): error CS0103", StringComparison.Ordinal));
        Assert.Equal(2, outcome.ExecutionCount);
        Assert.Equal(2, await ns.Eval("x + 1"));
        Assert.DoesNotContain("ok", ns.Keys);
    }

    [Fact]
    public async Task History_KeepsOutcomesByExecutionCount()
    {
        using var ns = new EngineNamespace();
        await ns.Run("1 + 1");
        await ns.Run("nope");
        Assert.Equal(2, ns.History(1)!.Value);
        Assert.False(ns.History(2)!.Succeeded);
        Assert.Null(ns.History(3));
        Assert.Null(ns.History(0));
    }

    [Fact]
    public async Task History_ForgetsBeyondTheLastThousand()
    {
        using var ns = new EngineNamespace();
        for (var i = 0; i < 1005; i++)
            await ns.Run("1");
        Assert.Null(ns.History(5));
        Assert.NotNull(ns.History(6));
        Assert.NotNull(ns.History(1005));
    }

    [Fact]
    public async Task WarmUp_LeavesNoStateAndExecutesMayRunMeanwhile()
    {
        using var ns = new EngineNamespace();
        var warm = ns.WarmUpAsync(CancellationToken.None);
        var outcome = await ns.Run("var x = 3; x");
        await warm.WaitAsync(NamespaceTestExtensions.Timeout);
        Assert.Equal(3, outcome.Value);
        Assert.Equal(1, outcome.ExecutionCount);
        Assert.Equal(["x"], ns.Keys);
    }

    [Fact]
    public async Task Execute_RepeatedCode_ReusesTheCompiledSubmission()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("var x = 1;");
        Assert.Equal(2, await ns.Eval("x + 1"));
        var compiled = ns.SubmissionCount;
        Assert.Equal(2, await ns.Eval("x + 1"));
        await ns.Eval("x = x + 1;");
        await ns.Eval("x = x + 1;");
        Assert.Equal(4, await ns.Eval("x + 1"));
        // "x = x + 1;" compiled once; "x + 1" reused throughout.
        Assert.Equal(compiled + 1, ns.SubmissionCount);
    }

    [Fact]
    public async Task Execute_RepeatedCodeAfterTheNamespaceChanged_IsRecompiled()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("var x = 1;");
        Assert.Equal(2, await ns.Eval("x + 1"));
        await ns.Eval("var x = \"s\";");
        Assert.Equal("s1", await ns.Eval("x + 1"));
        ns.Set("x", 10.5);
        Assert.Equal(11.5, await ns.Eval("x + 1"));
    }

    [Fact]
    public async Task Execute_RepeatedDeclaration_RedeclaresAndIsReused()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("var n = 0;");
        await ns.Eval("var y = n * 2;");
        var compiled = ns.SubmissionCount;
        await ns.Eval("n = 5;");
        await ns.Eval("var y = n * 2;");
        Assert.Equal(10, await ns.Eval("y"));
        ns.TryGet("y", out var y);
        Assert.Equal(10, y);
        await ns.Eval("n = 6;");
        await ns.Eval("var y = n * 2;");
        Assert.Equal(12, await ns.Eval("y"));
        Assert.True(ns.SubmissionCount < compiled + 6, $"{ns.SubmissionCount - compiled} compiles");
    }

    [Fact]
    public async Task Execute_RepeatedCode_IsReusedAcrossUnrelatedNewVariables()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("var x = 1;");
        await ns.Eval("x = x + 1;");
        await ns.Eval("var unrelated = 5;");
        ns.Set("pushed", 1.5);
        var compiled = ns.SubmissionCount;
        await ns.Eval("x = x + 1;");
        Assert.Equal(compiled, ns.SubmissionCount);
        Assert.Equal(3, await ns.Eval("x"));
    }

    [Fact]
    public async Task Execute_RepeatedDeclarationShadowedMeanwhile_DeclaresTheLatestValue()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("var y = 1;");
        await ns.Eval("var y = 2;");
        await ns.Eval("var y = 1;");
        Assert.Equal(1, await ns.Eval("y"));
        await ns.Eval("var y = 2;");
        Assert.Equal(2, await ns.Eval("y"));
        Assert.True(ns.TryGet("y", out var y));
        Assert.Equal(2, y);
    }

    [Fact]
    public async Task Execute_RepeatedCodeAfterAMethodWasRedeclared_CallsTheNewMethod()
    {
        using var ns = new EngineNamespace();
        await ns.Eval("int F() => 1;");
        Assert.Equal(1, await ns.Eval("F()"));
        await ns.Eval("int F() => 2;");
        Assert.Equal(2, await ns.Eval("F()"));
    }
}

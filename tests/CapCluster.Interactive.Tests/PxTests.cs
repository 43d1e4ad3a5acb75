using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Events;

namespace CapCluster.Interactive.Tests;

/// <summary>#!px, #!autopx, #!pxconfig and #!result in a real composite kernel, against a real 2-engine cluster.</summary>
[Collection(NotebookClusterCollection.Name)]
public sealed partial class PxTests(NotebookClusterFixture fixture)
{
    [Fact]
    public async Task Px_StateStaysOnTheEngines_BothShow42_PullGivesBothValues_ResultRepeats()
    {
        using var kernel = await fixture.NotebookAsync();

        Notebook.AssertSucceeded(await Notebook.RunAsync(kernel, "#!px\nvar x = 21;"));
        var twice = await Notebook.RunAsync(kernel, "#!px\nx * 2");
        Notebook.AssertSucceeded(twice);
        var text = Notebook.Shown(twice);
        Assert.Matches(Out(0, "42"), text);
        Assert.Matches(Out(1, "42"), text);
        var html = Notebook.Shown(twice, "text/html");
        Assert.Contains("<th>engine</th>", html, StringComparison.Ordinal);
        Assert.Contains("<pre>42</pre>", html, StringComparison.Ordinal);

        // The cell ran on the engines, not here: x is not defined locally.
        var local = await Notebook.RunAsync(kernel, "await mec.PullAsync<int>(\"x\")");
        Notebook.AssertSucceeded(local);
        var pulled = Assert.Single(local.Events.OfType<ReturnValueProduced>()).Value;
        Assert.Equal([21, 21], Assert.IsAssignableFrom<IReadOnlyList<int>>(pulled));

        var again = await Notebook.RunAsync(kernel, "#!result");
        Notebook.AssertSucceeded(again);
        Assert.Matches(Out(0, "42"), Notebook.Shown(again));
        Assert.Matches(Out(1, "42"), Notebook.Shown(again));
    }

    [Fact]
    public async Task Px_WithTargets_RunsOnThoseEnginesOnly_AndPxConfigSetsTheDefault()
    {
        using var kernel = await fixture.NotebookAsync();

        var one = await Notebook.RunAsync(kernel, "#!px --targets 1\n\"on \" + 1");
        Notebook.AssertSucceeded(one);
        Assert.Matches(Out(1, "on 1"), Notebook.Shown(one));
        Assert.DoesNotMatch(Out(0, ".*"), Notebook.Shown(one));

        Notebook.AssertSucceeded(await Notebook.RunAsync(kernel, "#!pxconfig --targets 0"));
        var zero = await Notebook.RunAsync(kernel, "#!px\n\"zero\"");
        Assert.Matches(Out(0, "zero"), Notebook.Shown(zero));
        Assert.DoesNotMatch(Out(1, ".*"), Notebook.Shown(zero));

        var unknown = Notebook.Failure(await Notebook.RunAsync(kernel, "#!pxconfig --targets 0,7"));
        Assert.Equal("#!pxconfig: no engine 7 (the engines are 0, 1); the targets stay engine(s) 0", unknown);
        var empty = Notebook.Failure(await Notebook.RunAsync(kernel, "#!px --targets 1\n\n"));
        Assert.Equal("#!px: the cell has no code to run on the engines (put it on the lines after #!px)", empty);
        var bad = Notebook.Failure(await Notebook.RunAsync(kernel, "#!px --targets zero\n1"));
        Assert.StartsWith("#!px: --targets 'zero' is not `all` or engine ids", bad, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AutoPx_SendsCellsToTheEnginesUntilSwitchedOff()
    {
        using var kernel = await fixture.NotebookAsync();

        var on = await Notebook.RunAsync(kernel, "#!autopx");
        Assert.Contains("#!autopx on", Notebook.Shown(on), StringComparison.Ordinal);
        Notebook.AssertSucceeded(await Notebook.RunAsync(kernel, "var auto = 11;"));
        var remote = await Notebook.RunAsync(kernel, "auto * 20");
        Assert.Matches(Out(0, "220"), Notebook.Shown(remote));
        Assert.Matches(Out(1, "220"), Notebook.Shown(remote));
        Assert.Empty(remote.Events.OfType<ReturnValueProduced>());

        var off = await Notebook.RunAsync(kernel, "#!autopx");
        Assert.Contains("#!autopx off", Notebook.Shown(off), StringComparison.Ordinal);
        var here = await Notebook.RunAsync(kernel, "\"local \" + (40 + 2)");
        Notebook.AssertSucceeded(here);
        Assert.Equal("local 42", Assert.Single(here.Events.OfType<ReturnValueProduced>()).Value);
    }

    [Fact]
    public async Task Px_RemoteException_FailsTheCellWithEngineIdTypeLineAndMessage()
    {
        using var kernel = await fixture.NotebookAsync();

        var result = await Notebook.RunAsync(kernel, "#!px\nvar a = 1;\nthrow new InvalidOperationException(\"boom \" + a);");

        var failure = Notebook.Failure(result);
        Assert.Contains("#!px: 2 engine(s) failed:", failure, StringComparison.Ordinal);
        Assert.Contains("[0] System.InvalidOperationException at line 2, column 1: boom 1", failure, StringComparison.Ordinal);
        Assert.Contains("[1] System.InvalidOperationException at line 2, column 1: boom 1", failure, StringComparison.Ordinal);
        Assert.Contains("remote stack trace", Notebook.Shown(result, "text/html"), StringComparison.Ordinal);

        var compile = Notebook.Failure(await Notebook.RunAsync(kernel, "#!px\nvar ok = 1;\nvar b = ;"));
        Assert.Contains("[0] the code did not compile at line 2", compile, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Px_NoBlock_ReturnsAHandleAtOnce_AndResultShowsTheAnswers()
    {
        using var kernel = await fixture.NotebookAsync();

        var sent = await Notebook.RunAsync(kernel, "#!px --noblock\nSystem.Threading.Thread.Sleep(2000);\n\"late\"");
        Notebook.AssertSucceeded(sent);
        var handle = Notebook.Shown(sent);
        Assert.Contains("[0] running...", handle, StringComparison.Ordinal);
        Assert.Contains("without waiting; #!result shows the output", handle, StringComparison.Ordinal);

        var result = await Notebook.RunAsync(kernel, "#!result");
        Notebook.AssertSucceeded(result);
        Assert.Matches(Out(0, "late"), Notebook.Shown(result));
        Assert.Matches(Out(1, "late"), Notebook.Shown(result));
    }

    [Fact]
    public async Task ResultN_ShowsThatExecutionFromTheEnginesHistory()
    {
        using var kernel = await fixture.NotebookAsync();
        Notebook.AssertSucceeded(await Notebook.RunAsync(kernel, "#!pxconfig --targets 0"));
        var marked = Notebook.Shown(await Notebook.RunAsync(kernel, "#!px\n\"mark \" + 7"));
        var n = Regex.Match(marked, @"^\[0\] Out\[(\d+)\]: ""?mark 7").Groups[1].Value;
        Assert.NotEmpty(n);
        Notebook.AssertSucceeded(await Notebook.RunAsync(kernel, "#!px\n\"later\""));

        var again = await Notebook.RunAsync(kernel, $"#!result {n}");

        Notebook.AssertSucceeded(again);
        Assert.Matches(Out(0, "\"?mark 7\"?"), Notebook.Shown(again));
        Assert.DoesNotContain("later", Notebook.Shown(again), StringComparison.Ordinal);
        var bad = Notebook.Failure(await Notebook.RunAsync(kernel, "#!result seven"));
        Assert.Equal("#!result: 'seven' is not an execution number (the N of Out[N], 1 or more)", bad);
    }

    [Fact]
    public async Task Px_EngineOutput_IsEscapedInTheHtmlTable()
    {
        using var kernel = await fixture.NotebookAsync();

        var result = await Notebook.RunAsync(kernel, "#!px\nConsole.Write(\"<script>alert(1)</script>\");\n\"<b>value</b>\"");

        Notebook.AssertSucceeded(result);
        var html = Notebook.Shown(result, "text/html");
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>value", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectCluster_WithCapFile_DefinesMecAndTc_AndRefusesTwoSources()
    {
        using var kernel = new Microsoft.DotNet.Interactive.CompositeKernel { new Microsoft.DotNet.Interactive.CSharp.CSharpKernel() };
        kernel.DefaultKernelName = "csharp";
        await new CapClusterKernelExtension().OnLoadAsync(kernel);

        var connected = await Notebook.RunAsync(kernel, $"#!connect-cluster --cap-file {fixture.MultiEngineCap}");

        Notebook.AssertSucceeded(connected);
        Assert.Contains("2 engine(s) [0, 1]; the client is mec, the task client tc", Notebook.Shown(connected), StringComparison.Ordinal);
        var both = Notebook.Failure(await Notebook.RunAsync(kernel, $"#!connect-cluster --cap-file {fixture.MultiEngineCap} --profile other"));
        Assert.Equal("#!connect-cluster: give one of --cap-file, --cap and --profile", both);
    }

    private static Regex Out(int engine, string value) => new($@"(?m)^\[{engine}\] Out\[\d+\]: {value}$");
}

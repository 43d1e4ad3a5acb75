using System.Text.RegularExpressions;
using CapCluster.Integration.Tests.Infrastructure;

namespace CapCluster.Interactive.Tests.Jupyter;

/// <summary>
/// Notebooks run headless by Jupyter itself (nbconvert --execute, the real dotnet-interactive kernel, the extension
/// loaded from the local feed) against a real 2-engine cluster started with `capcluster start -n 2`.
/// </summary>
[Collection(JupyterTools.Collection)]
public sealed class NotebookRunTests
{
    [Fact]
    public async Task Notebook_AgainstATwoEngineCluster_ShowsEveryMagicInItsSavedOutputs()
    {
        await using var cluster = await StartClusterAsync();
        var notebook = NotebookFile.WithExtension(
            "#!connect-cluster",
            "#!px\nvar x = 21;",
            "#!px\nx * 2",
            "#!autopx",
            "var y = x + 1;",
            "y * 10",
            "#!autopx",
            "#!result",
            "var pulled = await mec.PullAsync<int>(\"x\");\nstring.Join(\", \", pulled)",
            "!raises\n#!px\nvar a = 1;\nthrow new InvalidOperationException(\"boom\");",
            "#!cluster --refresh 0.2\nawait tc.MapAsync<int, int>(\"((Func<int>)(() => { System.Threading.Thread.Sleep(50); return x * x; }))()\", Enumerable.Range(0, 40), chunkSize: 2)",
            "using CapCluster.Client;\nusing CapCluster.Interactive;\nvar ids = await tc.RunAsync([.. Enumerable.Range(0, 6).Select(i => (TaskDefinition)new CodeTask($\"System.Threading.Thread.Sleep(100); var r = {i};\"))]);\nawait tc.Timeline(ids)",
            "public static class Maths { public static int Twice(int v) => 2 * v; }",
            "string.Join(\", \", await tc.MapAsync((int v) => Maths.Twice(v) + 1, Enumerable.Range(0, 5)))");
        var run = notebook.RunIn(cluster.BaseFolder, "must-show");

        Assert.Empty(run.UnexpectedErrors());
        Assert.Contains("2 engine(s) [0, 1]", run.Shown(1), StringComparison.Ordinal);
        Assert.Matches(NotebookFile.Out(0, "42"), run.Shown(3));
        Assert.Matches(NotebookFile.Out(1, "42"), run.Shown(3));
        Assert.Contains("<th>engine</th>", run.Shown(3, "text/html"), StringComparison.Ordinal);
        Assert.Contains("#!autopx on", run.Shown(4), StringComparison.Ordinal);
        Assert.Matches(NotebookFile.Out(0, "220"), run.Shown(6));
        Assert.Matches(NotebookFile.Out(1, "220"), run.Shown(6));
        Assert.Contains("#!autopx off", run.Shown(7), StringComparison.Ordinal);
        Assert.Matches(NotebookFile.Out(0, "220"), run.Shown(8));
        Assert.Matches(NotebookFile.Out(1, "220"), run.Shown(8));
        Assert.Equal("21, 21", run.Shown(9));
        var error = run.Shown(10, "error");
        Assert.Contains("[0] System.InvalidOperationException at line 2", error, StringComparison.Ordinal);
        Assert.Contains("[1] System.InvalidOperationException at line 2", error, StringComparison.Ordinal);
        Assert.Contains("boom", error, StringComparison.Ordinal);
        Assert.Contains("tasks: 20/20 done", run.Shown(11), StringComparison.Ordinal);
        Assert.Contains("<progress value=\"20\" max=\"20\">", run.Shown(11, "text/html"), StringComparison.Ordinal);
        var svg = run.Shown(12, "image/svg+xml");
        Assert.StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"", svg, StringComparison.Ordinal);
        Assert.Equal(6, Regex.Count(svg, "<rect class=\"task\""));
        Assert.Equal("1, 3, 5, 7, 9", run.Shown(14));
    }

    [Fact]
    public async Task ExampleNotebook_RunsClean()
    {
        await using var cluster = await StartClusterAsync();
        var example = Path.Combine(Repository.Root, "examples", "getting-started.ipynb");
        _ = JupyterTools.Feed;

        var run = NotebookFile.Execute(example, cluster.BaseFolder, cluster.BaseFolder);

        Assert.Empty(run.UnexpectedErrors());
        Assert.Matches(NotebookFile.Out(1, "42"), run.Shown(run.IndexOf("#!px\nx * 2")));
        Assert.Equal("total: 360 (expected 360)", run.Shown(run.IndexOf("var partials")));
        Assert.Contains("tasks: 20/20 done", run.Shown(run.IndexOf("#!cluster")), StringComparison.Ordinal);
        Assert.StartsWith("<svg", run.Shown(run.IndexOf("using CapCluster.Client;"), "image/svg+xml"), StringComparison.Ordinal);
        Assert.Equal("2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47", run.Shown(run.IndexOf("static bool IsPrime")));
        Assert.Contains("[0] System.FormatException at line 2", run.Shown(run.IndexOf("#!px\nvar parts"), "error"), StringComparison.Ordinal);
        Assert.Matches(NotebookFile.Out(0, "23"), run.Shown(run.IndexOf("#!px\nx + parts.Length")));
    }

    [Fact]
    public async Task Px_EndingInAnExpressionWithoutASemicolon_ShowsItsValueFromEachEngine()
    {
        await using var cluster = await StartClusterAsync();
        var notebook = NotebookFile.WithExtension(
            "#!px\nMath.Sqrt(16)",
            "#!px\nvar a = 3;\nvar b = 4;\nConsole.WriteLine($\"a={a}\");\nMath.Sqrt(a * a + b * b)",
            "#!px\nvar c = a + b;",
            "#!px\nc * 6");
        var run = notebook.RunIn(cluster.BaseFolder, "no-semicolon");

        Assert.Empty(run.UnexpectedErrors());
        foreach (var engine in new[] { 0, 1 })
        {
            Assert.Matches(NotebookFile.Out(engine, "4"), run.Shown(1));
            Assert.Matches(NotebookFile.Out(engine, "a=3\n5"), run.Shown(2));
            Assert.DoesNotMatch(NotebookFile.Out(engine, ".*"), run.Shown(3));
            Assert.Matches(NotebookFile.Out(engine, "42"), run.Shown(4));
        }
    }

    [Fact]
    public async Task Notebook_WithNoClusterRunning_SaysWhereItLookedAndHowToStartOne()
    {
        await using var nowhere = new ClusterDirectory();
        var notebook = NotebookFile.WithExtension("!raises\n#!connect-cluster", "!raises\n#!px\n1 + 1");
        var run = notebook.RunIn(nowhere.BaseFolder, "no-cluster");

        var expected = Path.Combine(nowhere.BaseFolder, "security", "multiengine.cap");
        foreach (var (cell, directive) in new[] { (1, "#!connect-cluster"), (2, "#!px") })
        {
            var error = run.Shown(cell, "error");
            Assert.StartsWith($"{directive}: no cluster:", error, StringComparison.Ordinal);
            Assert.Contains(expected, error, StringComparison.Ordinal);
            Assert.Contains("capcluster start -n 4", error, StringComparison.Ordinal);
        }
    }

    private static async Task<ClusterDirectory> StartClusterAsync()
    {
        var cluster = new ClusterDirectory();
        var start = await cluster.RunAsync("capcluster", "start", "-n", "2");
        Assert.True(start.ExitCode == 0, start.ToString());
        return cluster;
    }
}

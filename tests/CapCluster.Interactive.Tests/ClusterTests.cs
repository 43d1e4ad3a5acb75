using Microsoft.DotNet.Interactive.Events;

namespace CapCluster.Interactive.Tests;

/// <summary>#!cluster and the formatters of task outcomes and queue status, against a real 2-engine cluster.</summary>
[Collection(NotebookClusterCollection.Name)]
public sealed class ClusterTests(NotebookClusterFixture fixture)
{
    private const string SlowSquare = "((System.Func<int>)(() => { System.Threading.Thread.Sleep(100); return x * x; }))()";

    [Fact]
    public async Task Cluster_Alone_ShowsBothEnginesAndTheirQueues()
    {
        using var kernel = await fixture.NotebookAsync();

        var result = await Notebook.RunAsync(kernel, "#!cluster");

        Notebook.AssertSucceeded(result);
        var text = Notebook.Shown(result);
        Assert.Contains("2 engine(s) at", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^0 +\S+ +\d+ ", text);
        Assert.Matches(@"(?m)^1 +\S+ +\d+ ", text);
        Assert.Contains("<th>Last heartbeat</th>", Notebook.Shown(result, "text/html"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cluster_RefreshesInPlaceWhileAMapRuns_AndEndsWithTheWholeProgress()
    {
        using var kernel = await fixture.NotebookAsync();

        var result = await Notebook.RunAsync(
            kernel, $"#!cluster --refresh 0.2\nawait tc.MapAsync<int, int>(\"{SlowSquare.Replace("\"", "\\\"", StringComparison.Ordinal)}\", Enumerable.Range(0, 20), chunkSize: 1)");

        Notebook.AssertSucceeded(result);
        var squares = Assert.IsAssignableFrom<IReadOnlyList<int>>(Assert.Single(result.Events.OfType<ReturnValueProduced>()).Value);
        Assert.Equal(Enumerable.Range(0, 20).Select(x => x * x), squares);
        var updates = result.Events.OfType<DisplayedValueUpdated>().ToList();
        Assert.True(updates.Count >= 3, $"expected the display to be refreshed while the map ran, saw {updates.Count} update(s)");
        Assert.Contains(updates, u => u.FormattedValues.Any(v => v.MimeType == "text/plain" && v.Value.Contains("tasks: ", StringComparison.Ordinal) && !v.Value.Contains("tasks: 20/20", StringComparison.Ordinal)));
        Assert.Matches(@"tasks: 20/20 done, \d+\.\d/s, ETA 0 s", Notebook.Shown(result));
        Assert.Contains("<progress value=\"20\" max=\"20\">", Notebook.Shown(result, "text/html"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cluster_WithABadRefresh_FailsInOneLine()
    {
        using var kernel = await fixture.NotebookAsync();

        var failure = Notebook.Failure(await Notebook.RunAsync(kernel, "#!cluster --refresh 0"));

        Assert.Equal("#!cluster: --refresh '0' is not a number of seconds from 0.1 to 3600", failure);
    }

    [Fact]
    public async Task TaskOutcomeAndQueueStatus_AreFormattedAsTextAndHtml()
    {
        using var kernel = await fixture.NotebookAsync();

        var outcome = await Notebook.RunAsync(kernel, "(await tc.BarrierAsync(await tc.RunAsync([new CapCluster.Client.CodeTask(\"var r = 6 * 7;\") { Pull = [\"r\"] }])))[0]");
        Notebook.AssertSucceeded(outcome);
        Assert.Matches(@"task \d+ succeeded on engine \d: r = 42", Notebook.Shown(outcome));
        Assert.Contains("<th>attempts</th>", Notebook.Shown(outcome, "text/html"), StringComparison.Ordinal);

        var failed = await Notebook.RunAsync(kernel, "(await tc.BarrierAsync(await tc.RunAsync([new CapCluster.Client.CodeTask(\"var r = 1;\\nthrow new System.ArgumentException(\\\"no\\\");\")])))[0]");
        Notebook.AssertSucceeded(failed);
        Assert.Matches(@"task \d+ failed: \[\d\] System.ArgumentException at line 2, column 1: no", Notebook.Shown(failed));

        var engines = await Notebook.RunAsync(kernel, "await mec.GetEnginesAsync()");
        Assert.Matches(@"(?m)^Id  Host +Pid +State +Last heartbeat +Queued +Running +Done\n0 +\S+ +\d+ .*\n1 +\S+ +\d+ ", Notebook.Shown(engines));
        var queues = await Notebook.RunAsync(kernel, "await mec.QueueStatusAsync()");
        Assert.Matches(@"^\[0\] \d+ queued, \d+ running, \d+ done\n\[1\] \d+ queued, \d+ running, \d+ done$", Notebook.Shown(queues));

        var status = await Notebook.RunAsync(kernel, "await tc.QueueStatusAsync()");
        Assert.Matches(@"Tasks: 0 queued, 0 running, \d+ succeeded, \d+ failed, 0 aborted on 2 engine\(s\)", Notebook.Shown(status));
    }
}

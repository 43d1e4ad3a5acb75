using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.DotNet.Interactive.Events;

namespace CapCluster.Interactive.Tests;

/// <summary>tc.Timeline(ids) against a real 2-engine cluster: an SVG with a row per engine and a bar per task.</summary>
[Collection(NotebookClusterCollection.Name)]
public sealed class TimelineTests(NotebookClusterFixture fixture)
{
    [Fact]
    public async Task Timeline_DrawsARowPerEngineAndABarPerTask_ColouredByOutcome()
    {
        using var kernel = await fixture.NotebookAsync();
        Notebook.AssertSucceeded(await Notebook.RunAsync(kernel, "using CapCluster.Client;\nusing CapCluster.Interactive;"));
        Notebook.AssertSucceeded(await Notebook.RunAsync(
            kernel,
            "var ids = await tc.RunAsync([.. Enumerable.Range(0, 7).Select(i => (TaskDefinition)new CodeTask($\"System.Threading.Thread.Sleep(150); var r = {i};\") { Pull = [\"r\"] }),\n"
            + "    new CodeTask(\"throw new System.InvalidOperationException(\\\"bad\\\");\")]);"));

        var result = await Notebook.RunAsync(kernel, "await tc.Timeline(ids)");

        Notebook.AssertSucceeded(result);
        var shown = Assert.Single(result.Events.OfType<ReturnValueProduced>());
        Assert.Matches(@"^Timeline of 8 task\(s\) on 2 engine\(s\) over \d+\.\d\d s: 7 succeeded, 1 failed$", shown.FormattedValues.Single(v => v.MimeType == "text/plain").Value);
        var svg = XDocument.Parse(shown.FormattedValues.Single(v => v.MimeType == "image/svg+xml").Value);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(["engine 0", "engine 1"], svg.Descendants(ns + "text").Where(t => (string?)t.Attribute("class") == "row").Select(t => t.Value));
        var bars = svg.Descendants(ns + "rect").Where(r => (string?)r.Attribute("class") == "task").ToList();
        Assert.Equal(8, bars.Count);
        Assert.Equal(7, bars.Count(b => (string?)b.Attribute("fill") == TaskTimeline.ColourOf(CapCluster.Client.TaskStatus.Succeeded)));
        var failed = Assert.Single(bars, b => (string?)b.Attribute("fill") == TaskTimeline.ColourOf(CapCluster.Client.TaskStatus.Failed));
        Assert.Contains("InvalidOperationException: bad", failed.Value, StringComparison.Ordinal);
        Assert.All(bars, b => Assert.True(double.Parse((string)b.Attribute("width")!, System.Globalization.CultureInfo.InvariantCulture) >= 1));
        Assert.Matches(new Regex(@"\d s$"), svg.Descendants(ns + "text").Last().Value);
    }
}

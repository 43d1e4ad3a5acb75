using System.Globalization;
using System.Text;
using CapCluster.Client;
using static System.Net.WebUtility;

namespace CapCluster.Interactive;

/// <summary>
/// A task stream, the picture dask users rely on: one row per engine, a bar per task from when it started to when it
/// finished (a pale lead-in from when it was submitted), coloured by outcome. Notebooks show it as image/svg+xml.
/// </summary>
public sealed class TaskTimeline
{
    private const int Width = 800;
    private const int LabelWidth = 80;
    private const int RowHeight = 26;
    private const int Top = 8;
    private const int AxisHeight = 28;

    private TaskTimeline(IReadOnlyList<TaskOutcome> tasks, DateTimeOffset drawnAt)
    {
        Tasks = tasks;
        DrawnAt = drawnAt;
    }

    /// <summary>The tasks drawn, in the order given.</summary>
    public IReadOnlyList<TaskOutcome> Tasks { get; }

    /// <summary>When it was drawn: where a task still running ends.</summary>
    public DateTimeOffset DrawnAt { get; }

    /// <summary>A timeline of <paramref name="outcomes"/> as they are now.</summary>
    public static TaskTimeline From(IEnumerable<TaskOutcome> outcomes, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        return new TaskTimeline([.. outcomes], (time ?? TimeProvider.System).GetUtcNow());
    }

    /// <summary>The fill colour of a task's bar: green succeeded, red failed, grey aborted, blue running, pale queued.</summary>
    public static string ColourOf(Client.TaskStatus status) => status switch
    {
        Client.TaskStatus.Succeeded => "#2ca02c",
        Client.TaskStatus.Failed => "#d62728",
        Client.TaskStatus.Aborted => "#7f7f7f",
        Client.TaskStatus.Running => "#1f77b4",
        _ => "#c7c7c7",
    };

    /// <summary>One line: how many tasks, on how many engines, over how long, and how they ended.</summary>
    public override string ToString()
    {
        var (start, end) = Span();
        var counts = string.Join(", ", Tasks.GroupBy(t => t.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));
        var engines = Tasks.Select(t => t.EngineId).Where(e => e >= 0).Distinct().Count();
        var line = string.Create(CultureInfo.InvariantCulture, $"Timeline of {Tasks.Count} task(s) on {engines} engine(s) over {(end - start).TotalSeconds:0.00} s");
        return counts.Length > 0 ? $"{line}: {counts}" : line;
    }

    /// <summary>The picture as a standalone SVG document.</summary>
    public string ToSvg()
    {
        var rows = Tasks.Select(t => t.EngineId).Distinct().Order().ToList();
        var (start, end) = Span();
        var seconds = Math.Max((end - start).TotalSeconds, 1e-3);
        var plot = Width - LabelWidth - 10;
        double X(DateTimeOffset at) => LabelWidth + (Math.Clamp((at - start).TotalSeconds, 0, seconds) / seconds * plot);
        var height = Top + (rows.Count * RowHeight) + AxisHeight;

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.Append(CultureInfo.InvariantCulture, $"<title>{HtmlEncode(ToString())}</title>");
        for (var r = 0; r < rows.Count; r++)
        {
            var y = Top + (r * RowHeight);
            var label = rows[r] >= 0 ? $"engine {rows[r]}" : "no engine";
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"row\" x=\"4\" y=\"{y + (RowHeight / 2) + 4}\">{label}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{LabelWidth}\" x2=\"{Width - 10}\" y1=\"{y + RowHeight - 1}\" y2=\"{y + RowHeight - 1}\" stroke=\"#eee\"/>");
            foreach (var task in Tasks.Where(t => t.EngineId == rows[r]))
            {
                var began = task.Started ?? task.Submitted;
                var ended = task.Completed ?? DrawnAt;
                if (task.Started is { } started && started > task.Submitted)
                {
                    svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"wait\" x=\"{X(task.Submitted):0.##}\" y=\"{y + 10}\" width=\"{Math.Max(X(started) - X(task.Submitted), 0.5):0.##}\" height=\"4\" fill=\"#ddd\"/>");
                }

                svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"task\" x=\"{X(began):0.##}\" y=\"{y + 3}\" width=\"{Math.Max(X(ended) - X(began), 1):0.##}\" height=\"{RowHeight - 8}\" fill=\"{ColourOf(task.Status)}\" stroke=\"#fff\" stroke-width=\"0.5\">");
                svg.Append("<title>").Append(HtmlEncode(Describe(task, start))).Append("</title></rect>");
            }
        }

        var axis = Top + (rows.Count * RowHeight) + 4;
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{LabelWidth}\" x2=\"{Width - 10}\" y1=\"{axis}\" y2=\"{axis}\" stroke=\"#999\"/>");
        for (var i = 0; i <= 4; i++)
        {
            var x = LabelWidth + (plot * i / 4.0);
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"tick\" x=\"{x:0.##}\" y=\"{axis + 16}\" text-anchor=\"middle\">{seconds * i / 4:0.##} s</text>");
        }

        return svg.Append("</svg>").ToString();
    }

    private static string Describe(TaskOutcome task, DateTimeOffset origin)
    {
        var text = new StringBuilder($"task {task.TaskId}: {task.Status.ToString().ToLowerInvariant()}");
        if (task.Started is { } started)
        {
            text.Append(CultureInfo.InvariantCulture, $", waited {(started - task.Submitted).TotalSeconds:0.000} s");
            if (task.Completed is { } completed)
            {
                text.Append(CultureInfo.InvariantCulture, $", ran {(completed - started).TotalSeconds:0.000} s");
            }
        }

        text.Append(CultureInfo.InvariantCulture, $", submitted at +{(task.Submitted - origin).TotalSeconds:0.000} s");
        if (task.Error is { } error)
        {
            text.Append(": ").Append(error.RemoteType).Append(": ").Append(error.RemoteMessage);
        }
        else if (task.Failure is { } failure)
        {
            text.Append(": ").Append(failure);
        }

        return text.ToString();
    }

    private (DateTimeOffset Start, DateTimeOffset End) Span()
    {
        if (Tasks.Count == 0)
        {
            return (DrawnAt, DrawnAt);
        }

        var start = Tasks.Min(t => t.Submitted);
        var end = Tasks.Max(t => t.Completed ?? DrawnAt);
        return (start, end < start ? start : end);
    }
}

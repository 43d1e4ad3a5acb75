using System.Globalization;
using System.Text;
using CapCluster.Client;
using static System.Net.WebUtility;

namespace CapCluster.Interactive.Internal;

/// <summary>Work done since a monitor started, out of all that was known: a progress bar's numbers.</summary>
internal sealed record Progress(string Name, long Done, long Total, double PerSecond, TimeSpan? Eta)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name}: {Done}/{Total} done, {PerSecond:0.0}/s, ETA {(Eta is { } eta ? Math.Ceiling(eta.TotalSeconds) + " s" : "-")}");
}

/// <summary>What #!cluster shows: the engines (the table <c>capcluster status</c> prints), their queues, the task farm, progress.</summary>
internal sealed record ClusterView(
    DateTimeOffset At, IReadOnlyList<EngineStatus> Engines, IReadOnlyList<EngineQueueStatus> Queues, TaskQueueStatus? Tasks, IReadOnlyList<Progress> Progress)
{
    public string ToPlainText()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Engines.Count} engine(s) at {At:HH:mm:ss}\n");
        text.Append("Id  Host             Pid      State     Last heartbeat  Queued  Running  Done\n");
        foreach (var e in Engines)
        {
            var queue = Queues.FirstOrDefault(q => q.EngineId == e.Id);
            text.Append(CultureInfo.InvariantCulture, $"{e.Id,-3} {Clip(e.Host, 16),-16} {e.Pid,-8} {e.State,-9} {Durations.Ago(At - e.LastHeartbeat),-15} {queue?.Queued ?? e.QueueLength,-7} {queue?.Running ?? 0,-8} {queue?.Completed ?? e.Completed}\n");
        }

        if (Tasks is { } t)
        {
            text.Append(TaskQueueText(t)).Append('\n');
        }

        foreach (var p in Progress)
        {
            text.Append(p).Append('\n');
        }

        return text.ToString().TrimEnd('\n');
    }

    public string ToHtml()
    {
        var html = new StringBuilder("<div class=\"capcluster-cluster\">");
        foreach (var p in Progress)
        {
            var max = Math.Max(p.Total, 1).ToString(CultureInfo.InvariantCulture);
            html.Append("<div><progress value=\"").Append(p.Done.ToString(CultureInfo.InvariantCulture)).Append("\" max=\"").Append(max).Append("\"></progress> ")
                .Append(HtmlEncode(p.ToString())).Append("</div>");
        }

        html.Append(CultureInfo.InvariantCulture, $"<table><caption style=\"text-align:left\">{Engines.Count} engine(s) at {At:HH:mm:ss}</caption>")
            .Append("<thead><tr><th>Id</th><th>Host</th><th>Pid</th><th>State</th><th>Last heartbeat</th><th>Queued</th><th>Running</th><th>Done</th><th>Properties</th></tr></thead><tbody>");
        foreach (var e in Engines)
        {
            var queue = Queues.FirstOrDefault(q => q.EngineId == e.Id);
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{e.Id}</td><td>{HtmlEncode(e.Host)}</td><td>{e.Pid}</td><td>{HtmlEncode(e.State)}</td><td>{Durations.Ago(At - e.LastHeartbeat)} ago</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{queue?.Queued ?? e.QueueLength}</td><td>{queue?.Running ?? 0}</td><td>{queue?.Completed ?? e.Completed}</td>")
                .Append("<td>").Append(HtmlEncode(string.Join(" ", e.Properties.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")))).Append("</td></tr>");
        }

        html.Append("</tbody></table>");
        if (Tasks is { } t)
        {
            html.Append(TaskQueueHtml(t));
        }

        return html.Append("</div>").ToString();
    }

    public static string TaskQueueText(TaskQueueStatus t) =>
        string.Create(CultureInfo.InvariantCulture, $"Tasks: {t.Queued} queued, {t.Running} running, {t.Succeeded} succeeded, {t.Failed} failed, {t.Aborted} aborted on {t.Engines} engine(s)");

    public static string TaskQueueHtml(TaskQueueStatus t) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"<table><caption style=\"text-align:left\">Tasks on {t.Engines} engine(s)</caption><thead><tr><th>queued</th><th>running</th><th>succeeded</th><th>failed</th><th>aborted</th></tr></thead><tbody><tr><td>{t.Queued}</td><td>{t.Running}</td><td>{t.Succeeded}</td><td>{t.Failed}</td><td>{t.Aborted}</td></tr></tbody></table>");

    private static string Clip(string text, int length) => text.Length <= length ? text : text[..length];
}

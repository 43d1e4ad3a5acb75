using CapCluster.Client;
using Microsoft.DotNet.Interactive.Formatting;

namespace CapCluster.Interactive.Internal;

/// <summary>text/plain and text/html for what #!px shows and for the client's execute results and remote errors.</summary>
internal static class PxFormatting
{
    public const string PlainText = "text/plain";
    public const string Html = "text/html";
    public const string Svg = "image/svg+xml";

    /// <summary>Both, so that a notebook shows the table and a saved notebook (or a terminal) still reads the text.</summary>
    public static readonly string[] MimeTypes = [PlainText, Html];

    public static void Register()
    {
        Both<PxView>(v => v.ToPlainText(), v => v.ToHtml());
        Both<ExecuteResults>(r => PxView.Of(r).ToPlainText(), r => PxView.Of(r).ToHtml());
        Both<ExecuteResult>(r => PxView.Of(new ExecuteResults([r])).ToPlainText(), r => PxView.Of(new ExecuteResults([r])).ToHtml());
        Both<RemoteException>(e => PxView.DescribeError(e.EngineId, e) + (e.RemoteStackTrace.Length > 0 ? "\n" + e.RemoteStackTrace : string.Empty), PxView.ErrorHtml);
        Both<ClusterView>(v => v.ToPlainText(), v => v.ToHtml());
        Both<TaskQueueStatus>(ClusterView.TaskQueueText, ClusterView.TaskQueueHtml);
        Both<EngineQueueStatus>(
            QueueText,
            q => "<table><thead><tr><th>engine</th><th>queued</th><th>running</th><th>done</th></tr></thead><tbody>" + QueueRow(q) + "</tbody></table>");
        Both<EngineStatus>(
            e => new ClusterView(DateTimeOffset.UtcNow, [e], [], null, []).ToPlainText(),
            e => new ClusterView(DateTimeOffset.UtcNow, [e], [], null, []).ToHtml());
        Both<IEnumerable<EngineStatus>>(
            e => new ClusterView(DateTimeOffset.UtcNow, [.. e], [], null, []).ToPlainText(),
            e => new ClusterView(DateTimeOffset.UtcNow, [.. e], [], null, []).ToHtml());
        Both<IEnumerable<EngineQueueStatus>>(
            q => string.Join('\n', q.Select(QueueText)),
            q => "<table><thead><tr><th>engine</th><th>queued</th><th>running</th><th>done</th></tr></thead><tbody>" + string.Concat(q.Select(QueueRow)) + "</tbody></table>");
        Both<TaskOutcome>(TaskOutcomeText, TaskOutcomeHtml);
        Formatter.Register<TaskTimeline>((t, writer) => writer.Write(t.ToSvg()), Svg);
        Formatter.Register<TaskTimeline>((t, writer) => writer.Write(t.ToString()), PlainText);
        Formatter.SetPreferredMimeTypesFor(typeof(TaskTimeline), Svg, PlainText);
        Both<CompositeRemoteException>(
            e => $"{e.Errors.Count} engines failed:\n" + string.Join('\n', e.Errors.Select(x => PxView.DescribeError(-1, x))),
            e => "<div>" + System.Net.WebUtility.HtmlEncode($"{e.Errors.Count} engines failed:") + "</div><ul>" + string.Concat(e.Errors.Select(x => "<li>" + PxView.ErrorHtml(x) + "</li>")) + "</ul>");
    }

    private static string QueueText(EngineQueueStatus q) => $"[{q.EngineId}] {q.Queued} queued, {q.Running} running, {q.Completed} done";

    private static string QueueRow(EngineQueueStatus q) => $"<tr><td>{q.EngineId}</td><td>{q.Queued}</td><td>{q.Running}</td><td>{q.Completed}</td></tr>";

    private static string TaskOutcomeText(TaskOutcome o)
    {
        var text = o.ToString();
        if (o.Error is { } e)
        {
            text = $"task {o.TaskId} {o.Status.ToString().ToLowerInvariant()}: {PxView.DescribeError(e.EngineId, e)}";
        }

        if (o.Status == Client.TaskStatus.Succeeded && o.Values.Count > 0)
        {
            text += ": " + string.Join(", ", o.Values.Select(v => $"{v.Key} = {Formatter.ToDisplayString(v.Value, PlainText)}"));
        }

        return o.Stdout.Length > 0 ? text + "\n" + o.Stdout.TrimEnd('\n', '\r') : text;
    }

    private static string TaskOutcomeHtml(TaskOutcome o)
    {
        var html = new System.Text.StringBuilder("<table><thead><tr><th>task</th><th>status</th><th>engine</th><th>attempts</th><th>values</th><th>stdout</th><th>error</th></tr></thead><tbody><tr>");
        html.Append(System.Globalization.CultureInfo.InvariantCulture, $"<td>{o.TaskId}</td><td>{o.Status.ToString().ToLowerInvariant()}</td><td>{o.EngineId}</td><td>{o.Attempts}</td><td>");
        foreach (var (name, value) in o.Values)
        {
            html.Append("<div>").Append(Encode(name)).Append(" = ").Append(Encode(Formatter.ToDisplayString(value, PlainText))).Append("</div>");
        }

        html.Append("</td><td><pre>").Append(Encode(o.Stdout.TrimEnd('\n', '\r'))).Append("</pre></td><td>");
        html.Append(o.Error is { } e ? PxView.ErrorHtml(e) : Encode(o.Failure ?? string.Empty));
        return html.Append("</td></tr></tbody></table>").ToString();
    }

    private static string Encode(string text) => System.Net.WebUtility.HtmlEncode(text);

    /// <summary>Registers both formatters of <typeparamref name="T"/> and prefers HTML where the front end can show it.</summary>
    public static void Both<T>(Func<T, string> plain, Func<T, string> html)
    {
        Formatter.Register<T>((value, writer) => writer.Write(plain(value)), PlainText);
        Formatter.Register<T>((value, writer) => writer.Write(html(value)), Html);
        Formatter.SetPreferredMimeTypesFor(typeof(T), Html, PlainText);
    }
}

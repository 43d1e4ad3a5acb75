using System.Globalization;
using System.Text;
using CapCluster.Client;
using static System.Net.WebUtility;

namespace CapCluster.Interactive.Internal;

/// <summary>One engine's row: its result, its error, or neither while it still runs.</summary>
internal sealed record PxRow(int EngineId, ExecuteResult? Result, Exception? Error);

/// <summary>
/// What a #!px call shows at one moment: <c>[0] Out[3]: 42</c> lines as text/plain and a table (engine, In, stdout,
/// value, error) as HTML. A displayed view is replaced by a newer one as engines answer.
/// </summary>
internal sealed record PxView(string Title, IReadOnlyList<PxRow> Rows)
{
    public static PxView Of(ExecuteResults results) => new(string.Empty, [.. results.Select(r => new PxRow(r.EngineId, r, null))]);

    public bool Finished => Rows.All(r => r.Result is not null || r.Error is not null);

    public string ToPlainText()
    {
        var text = new StringBuilder();
        foreach (var row in Rows)
        {
            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(PlainText(row));
        }

        return text.ToString();
    }

    public string ToHtml()
    {
        var html = new StringBuilder("<table class=\"capcluster-px\">");
        if (Title.Length > 0)
        {
            html.Append("<caption style=\"text-align:left\">").Append(HtmlEncode(Title)).Append("</caption>");
        }

        html.Append("<thead><tr><th>engine</th><th>In</th><th>stdout</th><th>value</th><th>error</th></tr></thead><tbody>");
        foreach (var row in Rows)
        {
            html.Append("<tr><td>").Append(row.EngineId.ToString(CultureInfo.InvariantCulture)).Append("</td>");
            if (row.Result is { } r)
            {
                html.Append("<td>").Append(r.ExecutionCount.ToString(CultureInfo.InvariantCulture)).Append("</td><td><pre>").Append(HtmlEncode(r.Stdout.TrimEnd('\n', '\r'))).Append("</pre>");
                if (r.Stderr.Length > 0)
                {
                    html.Append("<pre style=\"color:#b00\">").Append(HtmlEncode(r.Stderr.TrimEnd('\n', '\r'))).Append("</pre>");
                }

                html.Append("</td><td><pre>").Append(r.HasValue ? HtmlEncode(r.ValueText) : string.Empty).Append("</pre></td><td></td>");
            }
            else if (row.Error is { } e)
            {
                html.Append("<td></td><td></td><td></td><td>").Append(ErrorHtml(e)).Append("</td>");
            }
            else
            {
                html.Append("<td colspan=\"4\"><i>running…</i></td>");
            }

            html.Append("</tr>");
        }

        return html.Append("</tbody></table>").ToString();
    }

    /// <summary>One line for an engine's failure: engine id, type, line and message (a compile error says so).</summary>
    public static string DescribeError(int engineId, Exception error) => error switch
    {
        RemoteException r => $"[{r.EngineId}] {r.Summary}",
        _ => $"[{engineId}] {error.Message}",
    };

    /// <summary>An engine's error as HTML: the one line, and the remote stack trace folded under it.</summary>
    public static string ErrorHtml(Exception error)
    {
        var html = new StringBuilder("<span style=\"color:#b00\">").Append(HtmlEncode(DescribeError(-1, error))).Append("</span>");
        if (error is RemoteException { RemoteStackTrace.Length: > 0 } r)
        {
            html.Append("<details><summary>remote stack trace</summary><pre>").Append(HtmlEncode(r.RemoteStackTrace)).Append("</pre></details>");
        }

        return html.ToString();
    }

    private static string PlainText(PxRow row)
    {
        if (row.Error is { } e)
        {
            return DescribeError(row.EngineId, e);
        }

        if (row.Result is not { } r)
        {
            return $"[{row.EngineId}] running...";
        }

        return r.OutputText is { Length: > 0 } output ? output : $"[{r.EngineId}] In [{r.ExecutionCount.ToString(CultureInfo.InvariantCulture)}]: done";
    }
}

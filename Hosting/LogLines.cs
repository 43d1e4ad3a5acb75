using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CapCluster.Hosting;

/// <summary>
/// Component log lines for people. A compact JSON line (<c>--log-format json</c>) becomes the line the text format
/// would have written: local time (JSON lines carry UTC), level, source and the message with its properties filled in,
/// then the exception, if any, on the lines below. Any other line (the text format, or a line that is not whole JSON) is left as it is.
/// </summary>
public static class LogLines
{
    /// <summary>The file's lines, each made readable.</summary>
    public static IEnumerable<string> ReadFile(string path) => File.ReadLines(path).Select(Readable);

    /// <summary>One line made readable: a compact JSON line as the text format's line, any other line as it is.</summary>
    public static string Readable(string line)
    {
        if (!line.StartsWith('{'))
        {
            return line;
        }

        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("@t", out var time) || time.ValueKind != JsonValueKind.String)
            {
                return line;
            }

            var text = new StringBuilder()
                .Append(DateTimeOffset.Parse(time.GetString()!, CultureInfo.InvariantCulture).ToLocalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture))
                .Append(" [").Append(Level(root)).Append("] ")
                .Append(Text(root, "SourceContext") ?? "?").Append(": ");
            if (Text(root, "@m") is { } message)
            {
                text.Append(message);
            }
            else
            {
                Render(Text(root, "@mt") ?? string.Empty, root, text);
            }

            if (Text(root, "@x") is { } exception)
            {
                text.Append('\n').Append(exception.TrimEnd());
            }

            return text.ToString();
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return line;
        }
    }

    private static string Level(JsonElement root) => Text(root, "@l") switch
    {
        null or "Information" => "INF",
        "Verbose" => "VRB",
        "Debug" => "DBG",
        "Warning" => "WRN",
        "Error" => "ERR",
        "Fatal" => "FTL",
        var other => other.ToUpperInvariant(),
    };

    /// <summary>
    /// Fills a message template's holes: a property's value (strings without quotes, as the text format writes them),
    /// or for a hole with a format the rendering Serilog wrote in <c>@r</c>; <c>{{</c> and <c>}}</c> are braces.
    /// </summary>
    private static void Render(string template, JsonElement root, StringBuilder text)
    {
        var renderings = root.TryGetProperty("@r", out var r) && r.ValueKind == JsonValueKind.Array ? [.. r.EnumerateArray()] : new List<JsonElement>();
        var formatted = 0;
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c is '{' or '}' && i + 1 < template.Length && template[i + 1] == c)
            {
                text.Append(c);
                i++;
                continue;
            }

            var end = c == '{' ? template.IndexOf('}', i) : -1;
            if (end < 0)
            {
                text.Append(c);
                continue;
            }

            var hole = template[(i + 1)..end];
            var name = hole.TrimStart('@', '$');
            var cut = name.IndexOfAny([',', ':']);
            var hasFormat = cut >= 0 && name.IndexOf(':', cut) >= 0;
            name = cut >= 0 ? name[..cut] : name;
            if (hasFormat && formatted < renderings.Count && renderings[formatted].ValueKind == JsonValueKind.String)
            {
                text.Append(renderings[formatted++].GetString());
            }
            else if (root.TryGetProperty(name, out var value))
            {
                text.Append(value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText());
            }
            else
            {
                text.Append('{').Append(hole).Append('}');
            }

            i = end;
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

using System.Collections;
using System.Globalization;
using CapCluster.Client;
using CapCluster.Security;
using Spectre.Console;

namespace CapCluster.Repl;

/// <summary>
/// How the console prints: engine output as <c>[0] Out[3]: 42</c>, each engine's prefix in its own colour
/// (Spectre.Console drops the colours where the terminal has none, or NO_COLOR is set), errors in red.
/// </summary>
internal sealed partial class ConsoleWriter(IAnsiConsole console)
{
    private static readonly string[] EngineColours = ["aqua", "lime", "yellow", "fuchsia", "deepskyblue1", "orange1", "mediumpurple1", "springgreen1"];

    public IAnsiConsole Console => console;

    public void Line(string text)
    {
        EraseWaitLine();
        console.WriteLine(text);
    }

    public void Note(string text)
    {
        EraseWaitLine();
        console.MarkupLine($"[grey]{Markup.Escape(text)}[/]");
    }

    public void Problem(string text)
    {
        EraseWaitLine();
        console.MarkupLine($"[red]{Markup.Escape(text)}[/]");
    }

    /// <summary>One engine's execution: its In line when <paramref name="withInput"/>, then Out and Err when there are any.</summary>
    public void Result(ExecuteResult result, bool withInput)
    {
        EraseWaitLine();
        var n = result.ExecutionCount.ToString(CultureInfo.InvariantCulture);
        if (withInput)
        {
            Engine(result.EngineId, $"In [{n}]:", result.Code, null);
        }

        var output = string.Join("\n", new[] { result.Stdout.TrimEnd('\n', '\r'), result.HasValue ? result.ValueText : string.Empty }.Where(s => s.Length > 0));
        if (output.Length > 0)
        {
            Engine(result.EngineId, $"Out[{n}]:", output, null);
        }

        if (result.Stderr.Length > 0)
        {
            Engine(result.EngineId, $"Err[{n}]:", result.Stderr.TrimEnd('\n', '\r'), "red");
        }
    }

    /// <summary>One engine's failure: the remote type, line and message, then the remote stack trace.</summary>
    public void Failure(int engineId, Exception error)
    {
        EraseWaitLine();
        switch (error)
        {
            case RemoteException remote:
                Engine(engineId, "Error:", remote.Summary, "red");
                var trace = UserFrames(remote.RemoteStackTrace);
                if (trace.Length > 0)
                {
                    console.MarkupLine($"[grey]{Markup.Escape(trace)}[/]");
                }

                break;
            case EngineLostException lost:
                Engine(engineId, "Lost:", lost.Message, "red");
                break;
            default:
                Engine(engineId, "Error:", error is CapClusterException ? error.Message : $"{error.GetType().Name}: {error.Message}", "red");
                break;
        }
    }

    /// <summary>The value of local code: <c>Out[n]: value</c>.</summary>
    public void LocalValue(int number, object? value)
    {
        EraseWaitLine();
        console.MarkupLine($"[bold]Out[[{number.ToString(CultureInfo.InvariantCulture)}]]:[/] {Markup.Escape(Format(value))}");
    }

    /// <summary>A readable text for a value: collections as [a, b], null as null, anything else its ToString.</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        string s => s,
        IEnumerable sequence when !OverridesToString(value) => "[" + string.Join(", ", sequence.Cast<object?>().Select(Format)) + "]",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>The remote stack trace without the engine's own frames below the user's code, which say nothing to the user.</summary>
    internal static string UserFrames(string stackTrace)
    {
        var lines = stackTrace.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        while (lines.Count > 0 && lines[^1].Trim() is var last
            && (last.StartsWith("at CapCluster.Engine.", StringComparison.Ordinal) || last.StartsWith("--- End of stack trace", StringComparison.Ordinal)))
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return string.Join("\n", lines);
    }

    private static bool OverridesToString(object value) =>
        value.GetType().GetMethod(nameof(ToString), Type.EmptyTypes)?.DeclaringType != typeof(object);

    private static string Colour(int engineId) => EngineColours[((engineId % EngineColours.Length) + EngineColours.Length) % EngineColours.Length];

    private void Engine(int engineId, string label, string text, string? textColour)
    {
        var prefix = $"[{Colour(engineId)}][[{engineId.ToString(CultureInfo.InvariantCulture)}]] {Markup.Escape(label)}[/]";
        var body = Markup.Escape(text);
        console.MarkupLine(textColour is null ? $"{prefix} {body}" : $"{prefix} [{textColour}]{body}[/]");
    }
}

using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CapCluster.Repl;

/// <summary>
/// Reads console input: the magics (<c>%px</c>, <c>%%px</c>, <c>%autopx</c>, <c>%result</c>, <c>%targets</c>,
/// <c>%block</c>, <c>%status</c>, <c>%help</c>) and plain C#, and says when an input needs more lines.
/// </summary>
internal static class MagicParser
{
    private static readonly CSharpParseOptions ScriptParse = CSharpParseOptions.Default.WithKind(SourceCodeKind.Script);

    /// <summary>The command <paramref name="input"/> stands for; plain C# runs on the engines when <paramref name="autoPx"/> is on.</summary>
    public static ConsoleCommand Parse(string input, bool autoPx)
    {
        var text = input.TrimStart();
        if (text.Length == 0)
        {
            return new ConsoleCommand.Empty();
        }

        if (!text.StartsWith('%'))
        {
            return autoPx ? new ConsoleCommand.Px(input.Trim()) : new ConsoleCommand.Local(input.Trim());
        }

        var newline = text.IndexOf('\n');
        if (text.StartsWith("%%", StringComparison.Ordinal))
        {
            var header = (newline < 0 ? text : text[..newline]).Trim();
            var name = FirstWord(header);
            if (name != "%%px")
            {
                return new ConsoleCommand.Invalid($"{name}: unknown cell magic; %%px is the only one (%help lists the magics)");
            }

            var body = newline < 0 ? string.Empty : text[(newline + 1)..].Trim();
            return ParsePx(name, header[name.Length..], body, "type the code on the lines after %%px and end the cell with an empty line");
        }

        var magic = FirstWord(text);
        var rest = text[magic.Length..];
        var argument = rest.Trim();
        return magic switch
        {
            "%px" => PxLine(rest),
            "%autopx" => argument.Length == 0 ? new ConsoleCommand.AutoPx() : NoArguments(magic, argument),
            "%status" => argument.Length == 0 ? new ConsoleCommand.Status() : NoArguments(magic, argument),
            "%help" => argument.Length == 0 ? new ConsoleCommand.Help() : NoArguments(magic, argument),
            "%result" => ParseResult(argument),
            "%targets" => ParseTargets(argument),
            "%block" => ParseBlock(argument),
            _ => new ConsoleCommand.Invalid($"{magic}: unknown magic (%help lists them)"),
        };
    }

    /// <summary>
    /// True when <paramref name="input"/> is unfinished and the console should read another line: a
    /// <c>%%px</c> cell until an empty line, C# (plain or after <c>%px</c>) until it is a complete
    /// submission or an empty line ends it anyway.
    /// </summary>
    public static bool NeedsMore(string input)
    {
        var text = input.TrimStart();
        var lines = text.Split('\n');
        if (text.Length == 0 || (lines.Length > 1 && lines[^1].Trim().Length == 0))
        {
            return false;
        }

        if (text.StartsWith("%%px", StringComparison.Ordinal))
        {
            return true;
        }

        if (text.StartsWith('%'))
        {
            if (FirstWord(text) != "%px")
            {
                return false;
            }

            // A %px line is one statement, as in IPython: a missing final ';' is the engines' to report, not a reason to
            // take the next line into it; only a block the line leaves open (a brace) continues it.
            var code = SplitFlags(text["%px".Length..], out _).Code;
            return Unfinished(code) && Unfinished(code + ";");
        }

        return Unfinished(text);
    }

    private static bool Unfinished(string code) =>
        code.Trim().Length > 0 && !SyntaxFactory.IsCompleteSubmission(CSharpSyntaxTree.ParseText(code, ScriptParse));

    private static ConsoleCommand PxLine(string rest)
    {
        var (flags, code) = SplitFlags(rest, out var error);
        return error is not null
            ? new ConsoleCommand.Invalid($"%px: {error}")
            : ParsePx("%px", flags, code, "write %px CODE, e.g. %px Environment.ProcessId");
    }

    private static ConsoleCommand ParsePx(string magic, string flags, string code, string hint)
    {
        TargetSpec? targets = null;
        bool? block = null;
        var words = flags.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < words.Length; i++)
        {
            var word = words[i];
            if (word is "--noblock" or "--block")
            {
                block = word == "--block";
            }
            else if (word == "--targets" || word.StartsWith("--targets=", StringComparison.Ordinal))
            {
                var value = word.Length > "--targets".Length ? word["--targets=".Length..] : i + 1 < words.Length ? words[++i] : string.Empty;
                if (value.Length == 0)
                {
                    return new ConsoleCommand.Invalid($"{magic}: --targets needs a value: all, or engine ids such as 0,2");
                }

                targets = TargetSpec.TryParse(value, out var error);
                if (targets is null)
                {
                    return new ConsoleCommand.Invalid($"{magic} --targets: {error}");
                }
            }
            else
            {
                return new ConsoleCommand.Invalid($"{magic}: unknown option '{word}' (the options are --targets LIST, --block and --noblock)");
            }
        }

        return code.Trim().Length == 0
            ? new ConsoleCommand.Invalid($"{magic}: no code to run; {hint}")
            : new ConsoleCommand.Px(code.Trim(), targets, block);
    }

    // The options come first (words starting with --, and --targets' value); the code is everything after them.
    private static (string Flags, string Code) SplitFlags(string rest, out string? error)
    {
        error = null;
        var position = 0;
        while (true)
        {
            var start = position;
            while (start < rest.Length && rest[start] is ' ' or '\t')
            {
                start++;
            }

            if (!rest.AsSpan(start).StartsWith("--", StringComparison.Ordinal))
            {
                return (rest[..position], rest[start..]);
            }

            var end = EndOfWord(rest, start);
            var word = rest[start..end];
            if (word == "--targets")
            {
                var valueStart = end;
                while (valueStart < rest.Length && rest[valueStart] is ' ' or '\t')
                {
                    valueStart++;
                }

                if (valueStart >= rest.Length || rest[valueStart] is '\n' or '\r')
                {
                    error = "--targets needs a value: all, or engine ids such as 0,2";
                    return (rest, string.Empty);
                }

                end = EndOfWord(rest, valueStart);
            }

            position = end;
        }
    }

    private static int EndOfWord(string text, int start)
    {
        var end = start;
        while (end < text.Length && !char.IsWhiteSpace(text[end]))
        {
            end++;
        }

        return end;
    }

    private static ConsoleCommand ParseResult(string argument)
    {
        if (argument.Length == 0)
        {
            return new ConsoleCommand.Result(null);
        }

        return int.TryParse(argument, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) && count > 0
            ? new ConsoleCommand.Result(count)
            : new ConsoleCommand.Invalid($"%result: '{argument}' is not an execution number (the N of Out[N], 1 or more)");
    }

    private static ConsoleCommand ParseTargets(string argument)
    {
        if (argument.Length == 0)
        {
            return new ConsoleCommand.Targets(null);
        }

        var spec = TargetSpec.TryParse(argument, out var error);
        return spec is null ? new ConsoleCommand.Invalid($"%targets: {error}") : new ConsoleCommand.Targets(spec);
    }

    private static ConsoleCommand ParseBlock(string argument) => argument.ToLowerInvariant() switch
    {
        "" => new ConsoleCommand.Block(null),
        "on" => new ConsoleCommand.Block(true),
        "off" => new ConsoleCommand.Block(false),
        _ => new ConsoleCommand.Invalid($"%block: '{argument}' is not on or off"),
    };

    private static ConsoleCommand NoArguments(string magic, string argument) =>
        new ConsoleCommand.Invalid($"{magic} takes no argument (got '{argument}')");

    private static string FirstWord(string text) => text[..EndOfWord(text, 0)];
}

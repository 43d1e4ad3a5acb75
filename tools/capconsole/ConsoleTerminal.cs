using Spectre.Console;

namespace CapCluster.Repl;

/// <summary>The console's output: Spectre's own terminal detection, or plain unwrapped text when stdout is redirected.</summary>
internal static class ConsoleTerminal
{
    /// <summary>Line width when stdout is a file or a pipe: wide enough that no engine output is wrapped.</summary>
    public const int RedirectedWidth = 1000;

    public static IAnsiConsole Create()
    {
        if (!Console.IsOutputRedirected)
        {
            return AnsiConsole.Console;
        }

        var plain = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        plain.Profile.Width = RedirectedWidth;
        return plain;
    }
}

using Spectre.Console;

namespace CapCluster.Hosting;

/// <summary>
/// Where a program writes its tables and coloured text: Spectre's own terminal detection on a terminal; plain text,
/// without escape codes, when stdout is a file or a pipe or <c>NO_COLOR</c> is set (https://no-color.org).
/// </summary>
public static class Terminal
{
    /// <summary>The console for this process's stdout.</summary>
    /// <param name="redirectedWidth">Line width when stdout is a file or a pipe: wide enough that nothing is wrapped.</param>
    public static IAnsiConsole Create(int redirectedWidth)
    {
        var redirected = Console.IsOutputRedirected;
        if (!redirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")))
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
        if (redirected)
        {
            plain.Profile.Width = redirectedWidth;
        }

        return plain;
    }
}

using CapCluster.Connection;
using CapCluster.Repl;
using Spectre.Console;

namespace CapCluster.Launcher.Tests.Console;

/// <summary>The line the console shows while calls wait for a controller that is out of reach.</summary>
public sealed class ConsoleWriterWaitingTests
{
    private static readonly ReconnectWait Wait = new("127.0.0.1:5002", "/tmp/security/multiengine.cap", TimeSpan.FromSeconds(10));

    private const string Line = "controller 127.0.0.1:5002 is not answering; trying again for 10 s... (Ctrl-C stops trying)";

    [Fact]
    public void Waiting_InPlainOutput_IsOneLineOfItsOwnForWaitsThatOverlap_WithoutEscapeCodes()
    {
        var screen = new CapturedConsole();
        var writer = new ConsoleWriter(screen.Console);

        var first = writer.Waiting(Wait);
        var second = writer.Waiting(Wait);
        second.Dispose();
        first.Dispose();
        first.Dispose();
        writer.Problem("gave up");

        Assert.Equal(Line + "\n" + "gave up\n", screen.Text.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [Fact]
    public void Waiting_OnATerminal_StaysWithoutItsNewline_AndIsErasedForTheOutcome()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 200;
        var writer = new ConsoleWriter(console);

        using (writer.Waiting(Wait))
        {
            Assert.Equal(Line, output.ToString());
        }

        writer.Problem("gave up");

        Assert.StartsWith(Line + "\r\u001b[2K", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("gave up", output.ToString()[(Line.Length + 5)..], StringComparison.Ordinal);
        Assert.Equal(1, output.ToString().Split("\u001b[2K").Length - 1);
    }
}

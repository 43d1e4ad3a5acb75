using System.Globalization;
using CapCluster.Connection;
using Spectre.Console;

namespace CapCluster.Repl;

/// <summary>The line that says the console is trying to reach its controller again, shown while it tries.</summary>
internal sealed partial class ConsoleWriter
{
    private readonly Lock waitLine = new();
    private int waits;
    private bool lineShown;

    /// <summary>
    /// For <see cref="ReconnectOptions.Waiting"/>: while calls wait for a controller that is out of reach, one line says
    /// where it is, how long they keep trying and that Ctrl-C stops them. On a terminal the line is erased when the last
    /// wait ends or anything else is printed, so the outcome takes its place; in plain output it is a line of its own.
    /// </summary>
    public IDisposable Waiting(ReconnectWait wait)
    {
        ArgumentNullException.ThrowIfNull(wait);
        lock (waitLine)
        {
            if (waits++ == 0)
            {
                var text = $"controller {wait.Controller} is not answering; trying again for " +
                           $"{wait.Timeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s... (Ctrl-C stops trying)";
                if (console.Profile.Capabilities.Ansi)
                {
                    console.Markup($"[grey]{Markup.Escape(text)}[/]");
                    lineShown = true;
                }
                else
                {
                    console.WriteLine(text);
                }
            }
        }

        return new WaitEnd(this);
    }

    /// <summary>Erases the waiting line, when one is on the screen, so that what comes next starts the line.</summary>
    private void EraseWaitLine()
    {
        lock (waitLine)
        {
            EraseWaitLineLocked();
        }
    }

    private void EraseWaitLineLocked()
    {
        if (lineShown)
        {
            console.Write(new ControlCode("\r\u001b[2K"));
            lineShown = false;
        }
    }

    private void EndWait()
    {
        lock (waitLine)
        {
            if (--waits == 0)
            {
                EraseWaitLineLocked();
            }
        }
    }

    /// <summary>One wait's end; told once however often it is disposed.</summary>
    private sealed class WaitEnd(ConsoleWriter writer) : IDisposable
    {
        private int ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref ended, 1) == 0)
            {
                writer.EndWait();
            }
        }
    }
}

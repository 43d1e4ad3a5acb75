using RadLine;
using Spectre.Console;

namespace CapCluster.Repl;

/// <summary>
/// RadLine's line editor: editing keys, Up/Down through the inputs of this session, Ctrl-D on an empty
/// line to leave. Its prompt changes with the console's (%autopx, continuation lines).
/// </summary>
internal sealed class RadLineReader : ILineReader
{
    private readonly ChangingPrompt prompt = new();
    private readonly LineEditor editor;

    public RadLineReader(IAnsiConsole console)
    {
        editor = new LineEditor(console) { Prompt = prompt };

        // One line per input: the console itself decides when an input needs more lines, so Up and Down
        // walk the history rather than the lines of a buffer.
        editor.KeyBindings.Remove(ConsoleKey.UpArrow);
        editor.KeyBindings.Remove(ConsoleKey.DownArrow);
        editor.KeyBindings.Add<PreviousHistoryCommand>(ConsoleKey.UpArrow);
        editor.KeyBindings.Add<NextHistoryCommand>(ConsoleKey.DownArrow);
        editor.KeyBindings.Add(ConsoleKey.D, ConsoleModifiers.Control, () => new EndOfInputCommand());
    }

    /// <summary>True when RadLine can work here: stdin and stdout are an interactive ANSI terminal.</summary>
    public static bool IsSupported(IAnsiConsole console) => !Console.IsInputRedirected && LineEditor.IsSupported(console);

    public async Task<string?> ReadLineAsync(string text, CancellationToken cancellationToken)
    {
        prompt.Text = text;
        string? line;
        try
        {
            line = await editor.ReadLine(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.WriteLine();
            throw;
        }

        cancellationToken.ThrowIfCancellationRequested();
        return line;
    }

    private sealed class ChangingPrompt : ILineEditorPrompt
    {
        public string Text { get; set; } = string.Empty;

        public (Markup Markup, int Margin) GetPrompt(ILineEditorState state, int line) => (new Markup(Markup.Escape(Text)), 0);
    }

    /// <summary>Ctrl-D: on an empty line, the end of input (RadLine then returns null); otherwise deletes like Delete.</summary>
    private sealed class EndOfInputCommand : LineEditorCommand
    {
        public override void Execute(LineEditorContext context)
        {
            if (context.Buffer.Content.Length == 0)
            {
                context.Submit(SubmitAction.Cancel);
            }
            else
            {
                new DeleteCommand().Execute(context);
            }
        }
    }
}

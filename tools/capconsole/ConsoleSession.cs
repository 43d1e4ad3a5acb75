using System.Globalization;
using CapCluster.Security;

namespace CapCluster.Repl;

/// <summary>
/// The state of one console (autopx, block, the last %px call) and what each command does with it.
/// Every wait takes the token that Ctrl-C cancels; cancelling stops the wait, never the console.
/// <paramref name="engines"/> is null in a console started with a task capability only: the MultiEngine magics
/// then say so, and how to get one.
/// </summary>
internal sealed partial class ConsoleSession(IClusterCalls? engines, ILocalCode local, ConsoleWriter output, ConsoleOptions options, TimeProvider time)
{
    private PxCall? last;
    private int localCount;
    private int inputCount = 1;

    /// <summary>True while every plain input runs on the engines (<c>%autopx</c>).</summary>
    public bool AutoPx { get; private set; }

    /// <summary>True while %px waits for the engines (<c>%block on</c>).</summary>
    public bool Block { get; private set; } = options.Block;

    /// <summary>The prompt for the first line of an input: <c>In [n]: </c>, <c>[px] In [n]: </c> under %autopx.</summary>
    public string Prompt => $"{(AutoPx ? "[px] " : string.Empty)}In [{inputCount.ToString(CultureInfo.InvariantCulture)}]: ";

    /// <summary>The prompt for the following lines of an unfinished input.</summary>
    public string ContinuationPrompt => "   ...: ";

    /// <summary>Reads <paramref name="input"/> and runs it; a non-empty input moves the prompt's number on.</summary>
    public Task RunAsync(string input, CancellationToken cancellationToken)
    {
        var command = MagicParser.Parse(input, AutoPx);
        if (command is not ConsoleCommand.Empty)
        {
            inputCount++;
        }

        return ExecuteAsync(command, cancellationToken);
    }

    public async Task ExecuteAsync(ConsoleCommand command, CancellationToken cancellationToken)
    {
        try
        {
            await DispatchAsync(command, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            output.Note("Interrupted.");
        }
        catch (CapClusterException e)
        {
            output.Problem(e.Message);
        }
    }

    private Task DispatchAsync(ConsoleCommand command, CancellationToken cancellationToken)
    {
        switch (command)
        {
            case ConsoleCommand.Empty:
                return Task.CompletedTask;
            case ConsoleCommand.Px or ConsoleCommand.AutoPx or ConsoleCommand.Result or ConsoleCommand.Targets or ConsoleCommand.Block or ConsoleCommand.Status
                when engines is null:
                output.Problem(NoMultiEngine);
                return Task.CompletedTask;
            case ConsoleCommand.Invalid invalid:
                output.Problem(invalid.Error);
                return Task.CompletedTask;
            case ConsoleCommand.Help:
                output.Line(HelpText);
                return Task.CompletedTask;
            case ConsoleCommand.AutoPx:
                AutoPx = !AutoPx;
                output.Note(AutoPx
                    ? "%autopx on: every input now runs on the engines (%autopx again to run code here)."
                    : "%autopx off: input runs here again.");
                return Task.CompletedTask;
            case ConsoleCommand.Block block:
                Block = block.On ?? Block;
                output.Note(Block
                    ? "%block on: %px waits for the engines and prints their output as it arrives."
                    : "%block off: %px returns at once; %result waits for and prints the output.");
                return Task.CompletedTask;
            case ConsoleCommand.Status:
                return Engines.ShowStatusAsync(cancellationToken);
            case ConsoleCommand.Targets targets:
                return TargetsAsync(targets.Spec, cancellationToken);
            case ConsoleCommand.Result result:
                return ResultAsync(result.ExecutionCount, cancellationToken);
            case ConsoleCommand.Px px:
                return PxAsync(px, cancellationToken);
            case ConsoleCommand.Local code:
                return LocalAsync(code.Code, cancellationToken);
            default:
                throw new InvalidOperationException($"no handler for {command.GetType().Name}");
        }
    }

    private async Task LocalAsync(string code, CancellationToken cancellationToken)
    {
        (bool HasValue, object? Value) result;
        try
        {
            result = await local.RunAsync(code, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            output.Note("Interrupted: stopped waiting for the local code (it may go on in the background).");
            return;
        }
        catch (Exception e) when (e is not CapClusterException and not OperationCanceledException)
        {
            output.Problem($"{e.GetType().FullName}: {e.Message}");
            return;
        }

        if (result.HasValue)
        {
            output.LocalValue(++localCount, result.Value);
        }
    }

    private async Task TargetsAsync(TargetSpec? spec, CancellationToken cancellationToken)
    {
        if (spec is not null)
        {
            if (spec.Ids is not null)
            {
                var known = await Engines.GetIdsAsync(cancellationToken).ConfigureAwait(false);
                var unknown = spec.Ids.Where(id => !known.Contains(id)).ToList();
                if (unknown.Count > 0)
                {
                    output.Problem($"%targets {spec}: no engine {Join(unknown)} (the engines are {Describe(known)}); the targets stay {Describe(Engines.Targets)}");
                    return;
                }
            }

            Engines.Targets = spec.Ids;
        }

        output.Note($"%targets: {(Engines.Targets is null ? "all engines" : "engines " + Join(Engines.Targets))}");
    }

    /// <summary>The engines' calls; the MultiEngine commands reach here only when the console holds a MultiEngine capability.</summary>
    private IClusterCalls Engines => engines ?? throw new InvalidOperationException("a MultiEngine command ran in a console without a MultiEngine capability");

    private static string Join(IEnumerable<int> ids) => string.Join(", ", ids.Select(i => i.ToString(CultureInfo.InvariantCulture)));

    private static string Describe(IReadOnlyList<int>? ids) => ids is null ? "all engines" : ids.Count == 0 ? "none" : Join(ids);
}

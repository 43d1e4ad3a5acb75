using System.Globalization;
using System.Runtime.CompilerServices;
using CapCluster.Client;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;

namespace CapCluster.Interactive.Internal;

/// <summary>
/// #!px, #!autopx, #!pxconfig and #!result. A directive runs before the rest of its cell, which the kernel then
/// sends to the C# kernel as a SubmitCode of its own: <see cref="InterceptAsync"/>, a middleware of the C# kernel,
/// sends that code to the engines instead when its cell began with #!px, or when #!autopx is on.
/// </summary>
internal sealed class ParallelMagics(NotebookCluster cluster)
{
    private const string NoEngines = "no engine is registered; start some with `capcluster start -n 4`";

    // Keyed by the cell's own SubmitCode, so that a #!px applies to the code of its cell and nothing else.
    private readonly ConditionalWeakTable<KernelCommand, PxCommand> pending = [];
    private Targets targets = Targets.All;
    private PxCall? last;

    /// <summary>True while every C# cell runs on the engines.</summary>
    public bool AutoPx { get; private set; }

    public Task PxAsync(PxCommand command, KernelInvocationContext context)
    {
        if (command.Targets is { } text && Targets.TryParse(text, out var error) is null)
        {
            context.Fail(command, message: $"#!px: {error}");
            return Task.CompletedTask;
        }

        // A cell of directives only sends no code to the C# kernel: say so rather than do nothing.
        if (context.Command is SubmitCode cell && cell.Code.Split('\n').All(l => l.Trim().Length == 0 || l.TrimStart().StartsWith("#!", StringComparison.Ordinal)))
        {
            context.Fail(command, message: "#!px: the cell has no code to run on the engines (put it on the lines after #!px)");
            return Task.CompletedTask;
        }

        pending.AddOrUpdate(Cell(context.Command), command);
        return Task.CompletedTask;
    }

    public Task AutoPxAsync(AutoPxCommand command, KernelInvocationContext context)
    {
        AutoPx = !AutoPx;
        context.DisplayAs(
            AutoPx
                ? $"#!autopx on: every C# cell now runs on {targets} (#!autopx again to run cells here)."
                : "#!autopx off: C# cells run here again.",
            "text/plain");
        return Task.CompletedTask;
    }

    public async Task PxConfigAsync(PxConfigCommand command, KernelInvocationContext context)
    {
        if (command.Targets is { } text)
        {
            if (Targets.TryParse(text, out var error) is not { } spec)
            {
                context.Fail(command, message: $"#!pxconfig: {error}");
                return;
            }

            if (spec.Ids is { } ids)
            {
                if (await cluster.EnsureConnectedAsync("#!pxconfig", command, context).ConfigureAwait(false) is not { } client)
                {
                    return;
                }

                var known = await client.GetIdsAsync(context.CancellationToken).ConfigureAwait(false);
                var unknown = ids.Where(id => !known.Contains(id)).ToList();
                if (unknown.Count > 0)
                {
                    context.Fail(command, message: $"#!pxconfig: no engine {Targets.Join(unknown)} (the engines are {Targets.Join(known)}); the targets stay {targets}");
                    return;
                }
            }

            targets = spec;
        }

        context.DisplayAs($"#!px runs on {targets}.", "text/plain");
    }

    public async Task ResultAsync(ResultCommand command, KernelInvocationContext context)
    {
        if (command.Id is null)
        {
            if (last is null)
            {
                context.Fail(command, message: "#!result: no #!px call yet; #!result N shows execution N (the N of Out[N]) from the engines' history");
                return;
            }

            await ShowAsync("#!result", last, command, context).ConfigureAwait(false);
            return;
        }

        if (!int.TryParse(command.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
        {
            context.Fail(command, message: $"#!result: '{command.Id}' is not an execution number (the N of Out[N], 1 or more)");
            return;
        }

        if (await cluster.EnsureConnectedAsync("#!result", command, context).ConfigureAwait(false) is not { } client)
        {
            return;
        }

        var ids = targets.Ids ?? await client.GetIdsAsync(context.CancellationToken).ConfigureAwait(false);
        var call = new PxCall($"#!result {n}", [.. ids.Select(id => (id, client.GetResultAsync(n, [id], CancellationToken.None).AsTask()))]);
        await ShowAsync("#!result", call, command, context).ConfigureAwait(false);
    }

    /// <summary>The C# kernel's middleware: runs a #!px cell's code (or every cell's, under #!autopx) on the engines.</summary>
    public async Task InterceptAsync(KernelCommand command, KernelInvocationContext context, KernelPipelineContinuation next)
    {
        if (command is not SubmitCode submit)
        {
            await next(command, context).ConfigureAwait(false);
            return;
        }

        var cell = Cell(submit);
        if (pending.TryGetValue(cell, out var px))
        {
            pending.Remove(cell);
        }
        else if (!AutoPx)
        {
            await next(command, context).ConfigureAwait(false);
            return;
        }

        await Guard.RunAsync("#!px", submit, context, () => RunAsync(submit, px, context)).ConfigureAwait(false);
    }

    private async Task RunAsync(SubmitCode submit, PxCommand? px, KernelInvocationContext context)
    {
        var code = submit.Code;
        if (code.Trim().Length == 0)
        {
            context.Fail(submit, message: "#!px: the cell has no code to run on the engines (put it on the lines after #!px)");
            return;
        }

        if (await cluster.EnsureConnectedAsync("#!px", submit, context).ConfigureAwait(false) is not { } client)
        {
            return;
        }

        var spec = px?.Targets is { } text ? Targets.TryParse(text, out _)! : targets;
        var ids = spec.Ids ?? await client.GetIdsAsync(context.CancellationToken).ConfigureAwait(false);
        if (ids.Count == 0)
        {
            context.Fail(submit, message: $"#!px: {NoEngines}");
            return;
        }

        // The engines go on when the cell is cancelled: the calls do not take the cell's token, only the wait does.
        last = new PxCall("#!px", [.. ids.Select(id => (id, client.ExecuteAsync(code, [id], CancellationToken.None).AsTask()))]);
        if (px?.NoBlock == true)
        {
            context.Display(last.Snapshot(), PxFormatting.MimeTypes);
            context.DisplayAs($"#!px: sent to engine(s) {Targets.Join(ids)} without waiting; #!result shows the output when they finish.", "text/plain");
            return;
        }

        await ShowAsync("#!px", last, submit, context).ConfigureAwait(false);
    }

    /// <summary>Shows the call and replaces the display as each engine answers; fails the cell naming every engine's error.</summary>
    private static async Task ShowAsync(string directive, PxCall call, KernelCommand command, KernelInvocationContext context)
    {
        var shown = context.Display(call.Snapshot(), PxFormatting.MimeTypes);
        var waiting = call.Calls.Select(c => (Task)c.Answer).ToList();
        var cancelled = Task.Delay(Timeout.InfiniteTimeSpan, context.CancellationToken);
        while (waiting.Count > 0)
        {
            var done = await Task.WhenAny([.. waiting, cancelled]).ConfigureAwait(false);
            if (done == cancelled)
            {
                context.Fail(command, message: $"{directive}: stopped waiting; the engines go on, and #!result shows their output when they finish");
                return;
            }

            waiting.Remove(done);
            shown.Update(call.Snapshot());
        }

        var errors = call.Errors();
        if (errors.Count > 0)
        {
            context.Fail(command, message: $"{directive}: {errors.Count} engine(s) failed:\n{string.Join('\n', errors)}");
        }
    }

    /// <summary>The cell a command came from: the SubmitCode at the root of its parents.</summary>
    public static KernelCommand Cell(KernelCommand command)
    {
        var cell = command;
        while (cell.Parent is { } parent)
        {
            cell = parent;
        }

        return cell;
    }
}

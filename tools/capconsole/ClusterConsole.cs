using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Security;
using CapCluster.Tools;
using Spectre.Console;

namespace CapCluster.Repl;

/// <summary>
/// <c>capcluster console</c>: connects to the controller, defines <c>mec</c> and <c>tc</c> (<c>tc</c> alone with a
/// task capability only), and reads inputs until Ctrl-D, with RadLine in a terminal and plain lines when stdin is redirected.
/// </summary>
internal sealed class ClusterConsole(ClusterPaths paths, IAnsiConsole console, ConsoleOptions options)
{
    public async Task<int> RunAsync(string? profile, string? capFile, CancellationToken cancellationToken)
    {
        var multiEngineCap = capFile ?? paths.CapFile(CapabilityInterfaces.MultiEngine);
        if (capFile is null)
        {
            var state = ControllerState.TryRead(paths.SecurityFolder);
            var running = state is not null && LiveProcess.IsRunning(state.Pid, "capcontroller");

            // A .cap copied from another host has no controller state beside it: connect anyway.
            if (!running && (state is not null || !File.Exists(multiEngineCap) && !File.Exists(TaskCapBeside(multiEngineCap))))
            {
                throw new CapClusterException(
                    $"no controller is running for {ProfileText.Name(profile)} (looked in {paths.SecurityFolder}); " +
                    $"start one with `capcluster start -n 4{ProfileText.Flag(profile)}`, or give --cap-file PATH to reach one elsewhere");
            }
        }

        var writer = new ConsoleWriter(console);

        // A call that finds the controller gone says so while it tries again, rather than wait in silence.
        var reconnect = ReconnectOptions.Interactive;
        reconnect.Waiting = writer.Waiting;
        var taskOnly = IsTaskCapability(multiEngineCap, explicitly: capFile is not null);
        var mec = taskOnly ? null : await MultiEngineClient.ConnectAsync(multiEngineCap, reconnect, cancellationToken).ConfigureAwait(false);
        TaskClient? tc = null;
        try
        {
            tc = taskOnly
                ? await TaskClient.ConnectAsync(capFile ?? TaskCapBeside(multiEngineCap), reconnect, cancellationToken).ConfigureAwait(false)
                : await ConnectTaskClientAsync(multiEngineCap, reconnect, writer, cancellationToken).ConfigureAwait(false);
            writer.Note(mec is null
                ? $"CapCluster console, connected with {tc!.CapabilityPath}, a task capability: tc is ready, mec is null (no MultiEngine capability); %help lists the magics; Ctrl-D leaves."
                : $"CapCluster console, connected with {mec.CapabilityPath}: {Engines(await mec.GetIdsAsync(cancellationToken).ConfigureAwait(false))}. " +
                  $"{(tc is null ? "mec is" : "mec and tc are")} ready; %help lists the magics; Ctrl-D leaves.");

            var calls = mec is null ? null : new ClusterCalls(mec, ct => new ClusterStatus(paths, console, Console.Out).ShowAsync(mec, ct));
            var session = new ConsoleSession(calls, new LocalScript(new ConsoleGlobals(mec, tc)), writer, options, TimeProvider.System);
            ILineReader reader = RadLineReader.IsSupported(console) ? new RadLineReader(console) : new PlainLineReader(Console.In, Console.Out);
            using var interrupts = new Interrupts();
            await LoopAsync(reader, session, interrupts).ConfigureAwait(false);
            writer.Note(session.StillRunning is { Count: > 0 } running
                ? $"Leaving; engine(s) {string.Join(", ", running)} go on with the last %px call."
                : "Leaving.");
            return 0;
        }
        finally
        {
            await LeaveAsync([.. new IAsyncDisposable?[] { mec, tc }.OfType<IAsyncDisposable>()], options.LeaveTimeout).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Disposes the clients, waiting at most <paramref name="timeout"/>: the process exits next, and the system closes
    /// whatever connection did not close in time. Calls still running on the engines are never waited for.
    /// </summary>
    internal static async Task LeaveAsync(IReadOnlyList<IAsyncDisposable> clients, TimeSpan timeout)
    {
        // On the pool, so that no client's disposal holds up the clock even for its synchronous part.
        var closing = Task.WhenAll(clients.Select(c => Task.Run(async () => await c.DisposeAsync().ConfigureAwait(false))));
        try
        {
            await closing.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _ = closing.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    internal static async Task LoopAsync(ILineReader reader, ConsoleSession session, Interrupts interrupts)
    {
        while (true)
        {
            string? input;
            try
            {
                input = await ReadInputAsync(reader, session, interrupts.Next()).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                continue; // Ctrl-C at the prompt drops what was typed
            }

            if (input is null)
            {
                return;
            }

            await session.RunAsync(input, interrupts.Next()).ConfigureAwait(false);
        }
    }

    /// <summary>One input: a line, and more lines while <see cref="MagicParser.NeedsMore"/> says it is unfinished.</summary>
    internal static async Task<string?> ReadInputAsync(ILineReader reader, ConsoleSession session, CancellationToken cancellationToken)
    {
        var text = await reader.ReadLineAsync(session.Prompt, cancellationToken).ConfigureAwait(false);
        while (text is not null && MagicParser.NeedsMore(text))
        {
            var next = await reader.ReadLineAsync(session.ContinuationPrompt, cancellationToken).ConfigureAwait(false);
            if (next is null)
            {
                break; // the end of input ends the last input too
            }

            text += "\n" + next;
        }

        return text;
    }

    private static string Engines(IReadOnlyList<int> ids) => $"{ids.Count} engine(s) [{string.Join(", ", ids)}]";

    private static string TaskCapBeside(string cap) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(cap)) ?? ".", CapabilityInterfaces.Task + ".cap");

    /// <summary>
    /// True for a console with a task capability only: <paramref name="cap"/> (given with --cap-file) is a task.cap, or,
    /// looked for in the security folder, there is no multiengine.cap but a task.cap beside where it would be.
    /// </summary>
    private static bool IsTaskCapability(string cap, bool explicitly) =>
        explicitly
            ? File.Exists(cap) && CapabilityFile.Read(cap).Interface == CapabilityInterfaces.Task
            : !File.Exists(cap) && File.Exists(TaskCapBeside(cap));

    private static async Task<TaskClient?> ConnectTaskClientAsync(string multiEngineCap, ReconnectOptions reconnect, ConsoleWriter writer, CancellationToken cancellationToken)
    {
        var taskCap = TaskCapBeside(multiEngineCap);
        if (!File.Exists(taskCap))
        {
            writer.Note($"tc is null: there is no {taskCap}.");
            return null;
        }

        try
        {
            return await TaskClient.ConnectAsync(taskCap, reconnect, cancellationToken).ConfigureAwait(false);
        }
        catch (CapClusterException e)
        {
            writer.Note($"tc is null: {e.Message}");
            return null;
        }
    }
}

using CapCluster.Client;
using CapCluster.Security;
using Spectre.Console;

namespace CapCluster.Tools;

/// <summary><c>capcluster status</c> and the console's <c>%status</c>: the controller and a table of its engines.</summary>
/// <param name="paths">The profile's folders, where the controller's state is.</param>
/// <param name="console">Where the table is drawn.</param>
/// <param name="output">Where the lines around it go.</param>
public sealed class ClusterStatus(ClusterPaths paths, IAnsiConsole console, TextWriter output)
{
    /// <summary>Connects with the profile's multiengine.cap and shows; 1 (and a line saying how to start one) when no controller runs.</summary>
    public async Task<int> ShowAsync(string? profile, CancellationToken cancellationToken)
    {
        var state = ControllerState.TryRead(paths.SecurityFolder);
        if (state is null || !LiveProcess.IsRunning(state.Pid, "capcontroller"))
        {
            output.WriteLine($"No controller is running for {ProfileText.Name(profile)}; start one with `capcluster start -n 4{ProfileText.Flag(profile)}`.");
            return 1;
        }

        await using var client = await MultiEngineClient.ConnectAsync(paths.CapFile(CapabilityInterfaces.MultiEngine), cancellationToken).ConfigureAwait(false);
        await ShowAsync(client, state, cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>The same through a client already connected (<c>%status</c> in the console); the controller line when its state is here.</summary>
    public async Task ShowAsync(MultiEngineClient client, CancellationToken cancellationToken)
    {
        ControllerState? state = null;
        try
        {
            state = ControllerState.TryRead(paths.SecurityFolder);
        }
        catch (CapClusterException)
        {
            // Unreadable state: the table alone still says what the controller knows.
        }

        await ShowAsync(client, state, cancellationToken).ConfigureAwait(false);
    }

    private async Task ShowAsync(MultiEngineClient client, ControllerState? state, CancellationToken cancellationToken)
    {
        var engines = await client.GetEnginesAsync(cancellationToken).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        output.WriteLine(state is null
            ? $"Controller at {client.CapabilityPath}; {engines.Count} engine(s)"
            : $"Controller pid {state.Pid} on {state.Host}: engines {state.ListenAddress}:{state.EnginePort}, " +
              $"clients {state.ListenAddress}:{state.ClientPort}, data lanes {state.ListenAddress}:{state.DataPort}, up {Durations.Ago(now - state.Started)}; {engines.Count} engine(s)");

        var table = new Table().Border(TableBorder.Square);
        // Engines that serve one task capability say which; a cluster without them needs no such column.
        var serving = engines.Any(e => e.Serves is not null);
        foreach (var column in new[] { "Id", "Host", "Pid", "State", "Last heartbeat", "Queue", "Done", "Properties" }.Concat(serving ? ["Serves only"] : []))
        {
            table.AddColumn(new TableColumn(column));
        }

        foreach (var e in engines)
        {
            string[] cells = [
                e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(e.Host),
                e.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture),
                e.State,
                Durations.Ago(now - e.LastHeartbeat) + " ago",
                e.QueueLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
                e.Completed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(string.Join(" ", e.Properties.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}")))];
            table.AddRow(serving ? [.. cells, e.Serves ?? "-"] : cells);
        }

        console.Write(table);
    }
}

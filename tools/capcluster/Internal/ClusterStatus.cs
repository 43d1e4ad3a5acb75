using CapCluster.Client;
using CapCluster.Security;
using Spectre.Console;

namespace CapCluster.Launcher.Internal;

/// <summary><c>capcluster status</c>: the controller and a table of its engines.</summary>
internal sealed class ClusterStatus(ClusterPaths paths, IAnsiConsole console, TextWriter output)
{
    public async Task<int> ShowAsync(string? profile, CancellationToken cancellationToken)
    {
        var state = ControllerState.TryRead(paths.SecurityFolder);
        if (state is null || !DetachedProcess.IsRunning(state.Pid, "capcontroller"))
        {
            output.WriteLine($"No controller is running for {ClusterStarter.ProfileName(profile)}; start one with `capcluster start -n 4{ClusterStarter.ProfileFlag(profile)}`.");
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
        foreach (var column in new[] { "Id", "Host", "Pid", "State", "Last heartbeat", "Queue", "Done", "Properties" })
        {
            table.AddColumn(new TableColumn(column));
        }

        foreach (var e in engines)
        {
            table.AddRow(
                e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(e.Host),
                e.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture),
                e.State,
                Durations.Ago(now - e.LastHeartbeat) + " ago",
                e.QueueLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
                e.Completed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(string.Join(" ", e.Properties.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))));
        }

        console.Write(table);
    }
}

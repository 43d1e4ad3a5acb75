using CapCluster.Client;
using CapCluster.Hosting;
using CapCluster.Security;

namespace CapCluster.Launcher.Internal;

/// <summary>
/// <c>capcluster logs</c>: the controller's log, or one engine's (<c>--engine ID</c>), from the profile's
/// log folder (every process writes <c>&lt;component&gt;-&lt;pid&gt;.log</c> there); then the other log files.
/// Lines in compact JSON (the processes' default format) are shown as the text format would have written them.
/// </summary>
internal sealed class ClusterLogs(ClusterPaths paths, TextWriter output)
{
    public async Task<int> ShowAsync(int? engine, int lines, CancellationToken cancellationToken)
    {
        var state = ControllerState.TryRead(paths.SecurityFolder)
            ?? throw new CapClusterException($"no controller has run with {paths.SecurityFolder}; nothing has logged yet");
        string file;
        if (engine is int id)
        {
            await using var client = await MultiEngineClient.ConnectAsync(paths.CapFile(CapabilityInterfaces.MultiEngine), cancellationToken).ConfigureAwait(false);
            var engines = await client.GetEnginesAsync(cancellationToken).ConfigureAwait(false);
            var found = engines.FirstOrDefault(e => e.Id == id)
                ?? throw new CapClusterException($"no engine {id} is registered (engines: {string.Join(", ", engines.Select(e => e.Id))})");
            file = Path.Combine(paths.LogFolder, $"capengine-{found.Pid}.log");
        }
        else
        {
            file = Path.Combine(paths.LogFolder, $"capcontroller-{state.Pid}.log");
        }

        if (!File.Exists(file))
        {
            throw new CapClusterException($"{file} does not exist (the process may run on another host; its log is in that host's log folder)");
        }

        output.WriteLine($"==> {file} <==");
        foreach (var line in File.ReadLines(file).TakeLast(lines))
        {
            output.WriteLine(LogLines.Readable(line));
        }

        var others = Directory.GetFiles(paths.LogFolder, "*.log").Where(f => f != file).Order().ToList();
        if (others.Count > 0)
        {
            output.WriteLine();
            output.WriteLine($"Other logs in {paths.LogFolder}: {string.Join(", ", others.Select(Path.GetFileName))}");
        }

        return 0;
    }
}

using System.Diagnostics;
using CapCluster.Security;

namespace CapCluster.Launcher.Internal.Launchers;

/// <summary><c>--launcher local</c>: N capengine processes on this machine, detached.</summary>
internal sealed class LocalLauncher(ClusterPaths paths, TextWriter output) : IEngineLauncher
{
    public bool StartsBesideController => true;

    public Task<LaunchedEngines> LaunchAsync(StartOptions options, CancellationToken cancellationToken)
    {
        _ = output;
        var pipe = new RegistrationPipe();
        var engines = new List<Process>();
        try
        {
            for (var i = 0; i < options.Engines; i++)
            {
                engines.Add(DetachedProcess.Start(Programs.Engine, [.. options.EngineArguments(), .. pipe.EngineArguments], paths.LogFolder));
            }

            pipe.Started();
        }
        catch
        {
            pipe.Dispose();
            throw;
        }

        var pids = engines.Select(e => e.Id).ToHashSet();
        return Task.FromResult(new LaunchedEngines(options.Engines, engines, e => pids.Contains(e.Pid), LogHint(paths, engines)) { Registrations = pipe });
    }

    public Task CleanUpAsync(ClusterRecord record, CancellationToken cancellationToken) => Task.CompletedTask;

    internal static string LogHint(ClusterPaths paths, IReadOnlyList<Process> engines) =>
        $"read the engine logs in {paths.LogFolder} (capengine-<pid>.log)" +
        (engines.Count > 0 ? $", e.g. {Path.Combine(paths.LogFolder, $"capengine-{engines[0].Id}.log")}" : string.Empty);
}

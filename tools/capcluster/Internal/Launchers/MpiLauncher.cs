using CapCluster.Security;

namespace CapCluster.Launcher.Internal.Launchers;

/// <summary><c>--launcher mpi</c>: <c>mpirun -n N capengine --mpi</c>, detached.</summary>
internal sealed class MpiLauncher(ClusterPaths paths, TextWriter output) : IEngineLauncher
{
    public Task<LaunchedEngines> LaunchAsync(StartOptions options, CancellationToken cancellationToken)
    {
        output.WriteLine($"Starting {options.Engines} engines with mpirun...");
        var arguments = options.MpirunArguments(Programs.Engine, Environment.GetEnvironmentVariable(ClusterPaths.BaseFolderVariable)).ToList();
        var mpirun = DetachedProcess.Start(Programs.Mpirun, arguments, paths.LogFolder);
        return Task.FromResult(new LaunchedEngines(
            options.Engines, [mpirun], e => e.Properties.GetValueOrDefault("mpi") == "yes", LocalLauncher.LogHint(paths, [mpirun])));
    }

    public Task CleanUpAsync(ClusterRecord record, CancellationToken cancellationToken) => Task.CompletedTask;
}

using CapCluster.Security;

namespace CapCluster.Launcher.Internal.Launchers;

/// <summary>The launcher for a <c>--launcher</c> name.</summary>
internal static class EngineLaunchers
{
    public static readonly string[] Names = ["local", "mpi", "ssh", "slurm", "pbs"];

    public static IEngineLauncher For(string name, ClusterPaths paths, TextWriter output) => name switch
    {
        "local" => new LocalLauncher(paths, output),
        "mpi" => new MpiLauncher(paths, output),
        "ssh" => new SshLauncher(paths, output),
        "slurm" => new SlurmLauncher(paths, output),
        "pbs" => new PbsLauncher(paths, output),
        _ => throw new CapClusterException($"--launcher {name}: unknown; use one of {string.Join(", ", Names)}"),
    };
}

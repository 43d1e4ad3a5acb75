using CapCluster.Security;

namespace CapCluster.Launcher.Internal;

/// <summary>Where the controller and engine executables are: beside the launcher, or in CAPCLUSTER_BIN.</summary>
internal static class Programs
{
    public static string Controller => Find("capcontroller");

    public static string Engine => Find("capengine");

    /// <summary>OpenMPI's launcher, from PATH.</summary>
    public static string Mpirun =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':').Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists)
        ?? throw new CapClusterException("mpirun was not found on PATH; install OpenMPI (apt-get install openmpi-bin)");

    private static string Find(string name)
    {
        var folders = new[] { Environment.GetEnvironmentVariable("CAPCLUSTER_BIN"), AppContext.BaseDirectory }
            .Where(f => !string.IsNullOrEmpty(f))
            .Select(f => Path.Combine(f!, name))
            .ToList();
        return folders.FirstOrDefault(File.Exists)
            ?? throw new CapClusterException($"cannot find {name} (looked at {string.Join(", ", folders)}); build with ./capcluster from the repository, or set CAPCLUSTER_BIN");
    }
}

using CapCluster.Security;

namespace CapCluster.Launcher.Internal;

/// <summary>Where the controller, engine and console executables are: beside the launcher, or in CAPCLUSTER_BIN.</summary>
internal static class Programs
{
    public static string Controller => Find("capcontroller");

    public static string Engine => Find("capengine");

    /// <summary><c>capcluster console</c>'s program.</summary>
    public static string Console => Find("capconsole");

    /// <summary>
    /// What the controller is started with: no system trust store (OpenSSL's file and folder, which .NET reads
    /// whatever a chain's trust mode, the first time a process builds one). The controller trusts its own CA alone
    /// and makes no TLS connection to anything else, and reading the store's 140 certificates twice (the bundle and
    /// the hashed folder) cost it about 60 ms of its start: alone, it listened 300 ms after its exec with the store and
    /// 240 ms without (six starts each, 2026-12-06).
    /// Engines keep the store: the code they run may call HTTPS servers.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ControllerEnvironment { get; } = new Dictionary<string, string>
    {
        ["SSL_CERT_FILE"] = "/dev/null",
        ["SSL_CERT_DIR"] = "/nonexistent/capcluster-no-system-trust",
    };

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

using System.Diagnostics;
using System.Security.Cryptography;

namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>
/// A real single-node Slurm (Debian slurm-wlm) for one test class: munged with a throwaway
/// key, slurmctld and slurmd in the foreground on free ports, with their configuration and
/// state in a temporary folder. sbatch, squeue and scancel find it through <see cref="Environment"/>.
/// </summary>
public sealed class SlurmCluster : IAsyncLifetime
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private readonly List<Process> daemons = [];
    private string folder = string.Empty;

    /// <summary>Why Slurm cannot run here, or null when it can be tried.</summary>
    public static string? Unavailable =>
        System.Environment.UserName != "root" ? "the single-node Slurm test starts munged, slurmctld and slurmd as root; run the tests as root"
        : new[] { "munged", "slurmctld", "slurmd", "sbatch", "sinfo", "squeue", "scancel" }.FirstOrDefault(p => HostCommand.Find(p) is null) is { } missing
            ? $"{missing} is not installed: apt-get install slurm-wlm munge"
            : null;

    public string ConfFile => Path.Combine(folder, "slurm.conf");

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["SLURM_CONF"] = ConfFile };

    public async Task InitializeAsync()
    {
        folder = Directory.CreateTempSubdirectory("capcluster-slurm-").FullName;
        foreach (var sub in new[] { "state", "spool", "munge" })
        {
            Directory.CreateDirectory(Path.Combine(folder, sub));
        }

        var key = Path.Combine(folder, "munge.key");
        using (var stream = new FileStream(key, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            stream.Write(RandomNumberGenerator.GetBytes(1024));
        }

        var socket = Path.Combine(folder, "munge", "munge.socket");
        daemons.Add(HostCommand.StartDaemon(HostCommand.Find("munged")!,
            ["-F", "--force", "--key-file", key, "--socket", socket, "--pid-file", Path.Combine(folder, "munged.pid"),
             "--log-file", Path.Combine(folder, "munged.log"), "--seed-file", Path.Combine(folder, "munge.seed")],
            Path.Combine(folder, "munged.out")));
        await WaitAsync(() => Task.FromResult(File.Exists(socket)), "munged to create its socket", Path.Combine(folder, "munged.out"));

        File.WriteAllText(ConfFile, Conf(socket));
        daemons.Add(HostCommand.StartDaemon(HostCommand.Find("slurmctld")!, ["-D", "-f", ConfFile], Path.Combine(folder, "slurmctld.out")));
        daemons.Add(HostCommand.StartDaemon(HostCommand.Find("slurmd")!, ["-D", "-f", ConfFile, "-N", "localhost"], Path.Combine(folder, "slurmd.out")));
        await WaitAsync(
            async () => (await HostCommand.RunAsync("sinfo", ["-h", "-n", "localhost", "-o", "%t"], Environment)).Output.Trim() == "idle",
            "sinfo to show the node idle",
            Path.Combine(folder, "slurmd.out"));
    }

    /// <summary>True while squeue lists the job (pending, running or completing).</summary>
    public async Task<bool> IsQueuedAsync(string jobId)
    {
        var result = await HostCommand.RunAsync("squeue", ["-h", "-j", jobId, "-o", "%i %t"], Environment);
        return result.ExitCode == 0 && result.Output.Trim().Length > 0;
    }

    public async Task DisposeAsync()
    {
        // slurmd first, so no step daemon is left waiting for a controller.
        foreach (var daemon in Enumerable.Reverse(daemons))
        {
            HostCommand.Stop(daemon);
        }

        await Task.Yield();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string Conf(string mungeSocket)
    {
        var free = ClusterDirectory.FreePorts(2);
        var ports = (free[0], free[1]);
        return string.Join('\n',
            "ClusterName=capcluster",
            "SlurmctldHost=localhost",
            "NodeName=localhost CPUs=2 State=UNKNOWN",
            "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SlurmUser=root",
            "SlurmdUser=root",
            $"StateSaveLocation={folder}/state",
            $"SlurmdSpoolDir={folder}/spool",
            $"SlurmctldPidFile={folder}/slurmctld.pid",
            $"SlurmdPidFile={folder}/slurmd.pid",
            $"SlurmctldLogFile={folder}/slurmctld.log",
            $"SlurmdLogFile={folder}/slurmd.log",
            $"SlurmctldPort={ports.Item1}",
            $"SlurmdPort={ports.Item2}",
            "AuthType=auth/munge",
            $"AuthInfo=socket={mungeSocket}",
            "ReturnToService=2",
            "MpiDefault=none",
            "JobCompType=jobcomp/none",
            string.Empty);
    }

    private async Task WaitAsync(Func<Task<bool>> ready, string what, string log)
    {
        var clock = Stopwatch.StartNew();
        while (!await ready())
        {
            var dead = daemons.FirstOrDefault(d => d.HasExited);
            if (dead is not null || clock.Elapsed > ReadyTimeout)
            {
                throw new InvalidOperationException(
                    $"Slurm did not start: waited for {what} {(dead is null ? $"for {ReadyTimeout}" : "but a daemon exited")}; {log}:\n{HostCommand.Tail(log)}\n" +
                    $"slurmctld:\n{HostCommand.Tail(Path.Combine(folder, "slurmctld.out"))}");
            }

            await Task.Delay(200);
        }
    }
}

/// <summary>A fact that needs Slurm and munge installed (and root); skipped with the reason otherwise.</summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        Skip = SlurmCluster.Unavailable;
    }
}

namespace CapCluster.Launcher.Internal;

/// <summary>The options of the ssh, slurm and pbs launchers; unused by local and mpi.</summary>
/// <param name="Partition">Slurm partition / PBS queue (default: the scheduler's default).</param>
/// <param name="TimeLimit">The job's time limit as the scheduler writes it, e.g. 1:00:00 (default: the scheduler's default).</param>
/// <param name="Account">The account to charge (default: none given).</param>
/// <param name="BatchTemplate">A file replacing the built-in batch script template (default: the built-in one).</param>
/// <param name="HostsFile">ssh: the file of <c>host [count]</c> lines.</param>
/// <param name="RemoteEngine">ssh: capengine's path on the other hosts (default: its path here).</param>
/// <param name="SharedFolder">ssh: the security and log folders are at the same paths on every host (shared file system), so nothing is copied (default: false).</param>
internal sealed record LaunchOptions(
    string? Partition = null,
    string? TimeLimit = null,
    string? Account = null,
    string? BatchTemplate = null,
    string? HostsFile = null,
    string? RemoteEngine = null,
    bool SharedFolder = false)
{
    /// <summary>ssh: extra <c>-o</c> options for ssh and scp, e.g. Port=2222 (default: none).</summary>
    public IReadOnlyList<string> SshOptions { get; init; } = [];
}

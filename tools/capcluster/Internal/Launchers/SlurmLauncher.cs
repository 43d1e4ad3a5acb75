using CapCluster.Security;

namespace CapCluster.Launcher.Internal.Launchers;

/// <summary><c>--launcher slurm</c>: <c>sbatch --parsable</c> a script that runs <c>srun -n N capengine</c>; <c>scancel</c> on stop.</summary>
internal sealed class SlurmLauncher(ClusterPaths paths, TextWriter output) : BatchLauncher(paths, output)
{
    public override string Name => "slurm";

    public override string DefaultTemplate => """
        #!/bin/sh
        # Written by `capcluster start --launcher slurm`: {engines} CapCluster engines as one job.
        #SBATCH --job-name={job_name}
        #SBATCH --ntasks={engines}
        #SBATCH --partition={partition}
        #SBATCH --time={time}
        #SBATCH --account={account}
        #SBATCH --output={log_folder}/slurm-%j.out
        srun -n {engines} {engine} --cap-file {cap_file} --log-folder {log_folder} {profile_args}
        """;

    protected override string InstallHint => "install Slurm's client commands (apt-get install slurm-client) or run on a Slurm login node";

    public override IReadOnlyList<string> SubmitCommand(string script, StartOptions options) => ["sbatch", "--parsable", script];

    public override IReadOnlyList<string> CancelCommand(string jobId) => ["scancel", jobId];

    // --parsable prints "id" or "id;cluster".
    public override string? ParseJobId(string submitOutput)
    {
        var id = submitOutput.Trim().Split('\n')[^1].Split(';')[0].Trim();
        return id.Length > 0 && id.All(char.IsAsciiDigit) ? id : null;
    }

    protected override string TimeoutHint(string jobId) =>
        $"Slurm job {jobId}: see `squeue -j {jobId}` / `scontrol show job {jobId}`, its output {Path.Combine(Paths.LogFolder, $"slurm-{jobId}.out")}, " +
        $"the script {ScriptPath} and the engine logs in {Paths.LogFolder}; the job was cancelled";
}

using CapCluster.Security;

namespace CapCluster.Launcher.Internal.Launchers;

/// <summary><c>--launcher pbs</c>: <c>qsub</c> a script that starts N engines and waits; <c>qdel</c> on stop.</summary>
internal sealed class PbsLauncher(ClusterPaths paths, TextWriter output) : BatchLauncher(paths, output)
{
    public override string Name => "pbs";

    // -V exports this environment (CAPCLUSTER_DIR among it) to the job, as sbatch does by default.
    public override string DefaultTemplate => """
        #!/bin/sh
        # Written by `capcluster start --launcher pbs`: {engines} CapCluster engines as one job.
        #PBS -N {job_name}
        #PBS -l nodes=1:ppn={engines}
        #PBS -q {partition}
        #PBS -l walltime={time}
        #PBS -A {account}
        #PBS -j oe
        #PBS -o {log_folder}/pbs-engines.out
        #PBS -V
        i=0
        while [ "$i" -lt {engines} ]; do
          {engine} --cap-file {cap_file} --log-folder {log_folder} {profile_args} &
          i=$((i + 1))
        done
        wait
        """;

    protected override string InstallHint => "install the PBS/Torque client commands (qsub, qdel) or run on a PBS login node";

    public override IReadOnlyList<string> SubmitCommand(string script, StartOptions options) => ["qsub", script];

    public override IReadOnlyList<string> CancelCommand(string jobId) => ["qdel", jobId];

    // qsub prints the job id, e.g. "1234.server", on one line.
    public override string? ParseJobId(string submitOutput)
    {
        var id = submitOutput.Trim().Split('\n')[^1].Trim();
        return id.Length > 0 && !id.Any(char.IsWhiteSpace) ? id : null;
    }

    protected override string TimeoutHint(string jobId) =>
        $"PBS job {jobId}: see `qstat -f {jobId}`, its output {Path.Combine(Paths.LogFolder, "pbs-engines.out")}, " +
        $"the script {ScriptPath} and the engine logs in {Paths.LogFolder}; the job was deleted";
}

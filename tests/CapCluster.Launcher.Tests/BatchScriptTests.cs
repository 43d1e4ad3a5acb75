using CapCluster.Launcher.Internal.Launchers;
using CapCluster.Security;

namespace CapCluster.Launcher.Tests;

public sealed class BatchScriptTests
{
    private static readonly ClusterPaths Paths = ClusterPaths.Under("/tmp/capcluster-base");

    private static readonly BatchScript.Values AllOptions = new(
        3, "/opt/cap/capengine", "/tmp/capcluster-base/security/engine.cap", "/tmp/capcluster-base/log", "capcluster-p1",
        Profile: "p1", Partition: "debug", Time: "1:30:00", Account: "proj42");

    [Fact]
    public void Slurm_WithEveryOption_HasShebangDirectivesAndSrunLine()
    {
        var script = BatchScript.Render(new SlurmLauncher(Paths, TextWriter.Null).DefaultTemplate, AllOptions);
        var lines = script.Split('\n');

        Assert.Equal("#!/bin/sh", lines[0]);
        Assert.Contains("#SBATCH --job-name=capcluster-p1", lines);
        Assert.Contains("#SBATCH --ntasks=3", lines);
        Assert.Contains("#SBATCH --partition=debug", lines);
        Assert.Contains("#SBATCH --time=1:30:00", lines);
        Assert.Contains("#SBATCH --account=proj42", lines);
        Assert.Contains("#SBATCH --output=/tmp/capcluster-base/log/slurm-%j.out", lines);
        Assert.Contains(
            "srun -n 3 /opt/cap/capengine --cap-file /tmp/capcluster-base/security/engine.cap --log-folder /tmp/capcluster-base/log --profile p1",
            lines);
        Assert.DoesNotContain("{", script.Replace("${", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Slurm_WithoutPartitionTimeOrAccount_LeavesThoseDirectivesOut()
    {
        var values = AllOptions with { Partition = null, Time = null, Account = null, Profile = null };

        var script = BatchScript.Render(new SlurmLauncher(Paths, TextWriter.Null).DefaultTemplate, values);

        Assert.DoesNotContain("--partition", script, StringComparison.Ordinal);
        Assert.DoesNotContain("--time", script, StringComparison.Ordinal);
        Assert.DoesNotContain("--account", script, StringComparison.Ordinal);
        Assert.Contains("#SBATCH --ntasks=3\n", script, StringComparison.Ordinal);
        Assert.Contains("--log-folder /tmp/capcluster-base/log\n", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Pbs_WithEveryOption_HasShebangDirectivesAndEngineLoop()
    {
        var script = BatchScript.Render(new PbsLauncher(Paths, TextWriter.Null).DefaultTemplate, AllOptions);
        var lines = script.Split('\n');

        Assert.Equal("#!/bin/sh", lines[0]);
        Assert.Contains("#PBS -N capcluster-p1", lines);
        Assert.Contains("#PBS -l nodes=1:ppn=3", lines);
        Assert.Contains("#PBS -q debug", lines);
        Assert.Contains("#PBS -l walltime=1:30:00", lines);
        Assert.Contains("#PBS -A proj42", lines);
        Assert.Contains("#PBS -V", lines);
        Assert.Contains("while [ \"$i\" -lt 3 ]; do", lines);
        Assert.Contains(
            "  /opt/cap/capengine --cap-file /tmp/capcluster-base/security/engine.cap --log-folder /tmp/capcluster-base/log --profile p1 &",
            lines);
        Assert.Contains("wait", lines);
    }

    [Fact]
    public void Pbs_WithoutQueue_LeavesTheQueueDirectiveOut()
    {
        var script = BatchScript.Render(new PbsLauncher(Paths, TextWriter.Null).DefaultTemplate, AllOptions with { Partition = null });

        Assert.DoesNotContain("#PBS -q", script, StringComparison.Ordinal);
        Assert.Contains("#PBS -A proj42", script, StringComparison.Ordinal);
    }

    [Fact]
    public void UserTemplate_FillsPlaceholdersQuotesPathsAndLeavesShellBracesAlone()
    {
        const string template = "#!/bin/bash\n#SBATCH -p {partition}\n#MY {job_name} {time}\necho ${HOME} {nothing}\n{engine} --cap-file {cap_file} x{engines}\n";
        var values = AllOptions with { Engine = "/opt/my cap/capengine", Partition = null, Time = null };

        var script = BatchScript.Render(template, values);

        Assert.Equal("#!/bin/bash\n#MY capcluster-p1\necho ${HOME} {nothing}\n'/opt/my cap/capengine' --cap-file /tmp/capcluster-base/security/engine.cap x3\n", script);
    }

    [Theory]
    [InlineData("1234\n", "1234")]
    [InlineData("1234;cluster\n", "1234")]
    [InlineData("sbatch: error: Batch job submission failed\n", null)]
    [InlineData("", null)]
    public void Slurm_ParseJobId_ReadsParsableOutput(string output, string? expected) =>
        Assert.Equal(expected, new SlurmLauncher(Paths, TextWriter.Null).ParseJobId(output));

    [Theory]
    [InlineData("1234.pbs-server\n", "1234.pbs-server")]
    [InlineData("", null)]
    public void Pbs_ParseJobId_ReadsQsubOutput(string output, string? expected) =>
        Assert.Equal(expected, new PbsLauncher(Paths, TextWriter.Null).ParseJobId(output));

    [Fact]
    public void SubmitAndCancelCommands_AreTheSchedulersOwn()
    {
        var slurm = new SlurmLauncher(Paths, TextWriter.Null);
        var pbs = new PbsLauncher(Paths, TextWriter.Null);

        Assert.Equal(["sbatch", "--parsable", "/x.sh"], slurm.SubmitCommand("/x.sh", null!));
        Assert.Equal(["scancel", "12"], slurm.CancelCommand("12"));
        Assert.Equal(["qsub", "/x.sh"], pbs.SubmitCommand("/x.sh", null!));
        Assert.Equal(["qdel", "12.server"], pbs.CancelCommand("12.server"));
    }
}

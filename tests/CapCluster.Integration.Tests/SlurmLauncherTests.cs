using System.Diagnostics;
using System.Text.RegularExpressions;
using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary><c>capcluster start --launcher slurm</c> against a real single-node Slurm started by the fixture.</summary>
public sealed partial class SlurmLauncherTests(SlurmCluster slurm) : IClassFixture<SlurmCluster>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [SlurmFact]
    public async Task StartSlurm_TwoEngines_RegisterAndStopCancelsTheJob()
    {
        await using var cluster = Cluster();

        var start = await cluster.RunAsync("capcluster", "start", "-n", "2", "--launcher", "slurm", "--partition", "debug", "--time-limit", "10");

        Assert.True(start.ExitCode == 0, start.ToString());
        Assert.Contains("Engines registered: 2/2", start.Output);
        var jobId = SubmittedJob().Match(start.Output).Groups[1].Value;
        Assert.True(jobId.Length > 0, start.ToString());
        Assert.True(await slurm.IsQueuedAsync(jobId), $"job {jobId} is not in squeue while its engines run");
        var script = File.ReadAllText(Path.Combine(cluster.Paths().LogFolder, "slurm-engines.sh"));
        Assert.Contains("#SBATCH --partition=debug", script);

        await using (var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout))
        {
            Assert.Equal([0, 1], await client.GetIdsAsync().WaitAsync(Timeout));
            // The engines run inside the job: Slurm gave them its id.
            await client.ExecuteAsync("var job = System.Environment.GetEnvironmentVariable(\"SLURM_JOB_ID\");").GetAsync(Timeout);
            Assert.Equal([jobId, jobId], await client.PullAsync<string>("job").GetAsync(Timeout));
        }

        var stop = await cluster.RunAsync("capcluster", "stop");

        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Contains("Stopped the controller", stop.Output);
        await WaitUntilGoneAsync(jobId);
    }

    [SlurmFact]
    public async Task StartSlurm_WhenEnginesDoNotRegisterInTime_FailsNamingTheJobAndScriptAndCancelsIt()
    {
        await using var cluster = Cluster();

        var start = await cluster.RunAsync("capcluster", "start", "-n", "2", "--launcher", "slurm", "--timeout", "0.001");

        Assert.NotEqual(0, start.ExitCode);
        var jobId = SubmittedJob().Match(start.Output).Groups[1].Value;
        Assert.True(jobId.Length > 0, start.ToString());
        Assert.Contains($"Slurm job {jobId}", start.Error);
        Assert.Contains("slurm-engines.sh", start.Error);
        await WaitUntilGoneAsync(jobId);
    }

    private ClusterDirectory Cluster()
    {
        var cluster = new ClusterDirectory();
        foreach (var (name, value) in slurm.Environment)
        {
            cluster.Environment[name] = value;
        }

        return cluster;
    }

    private async Task WaitUntilGoneAsync(string jobId)
    {
        var clock = Stopwatch.StartNew();
        while (await slurm.IsQueuedAsync(jobId))
        {
            Assert.True(clock.Elapsed < Timeout, $"job {jobId} is still in squeue {Timeout} after it should have ended");
            await Task.Delay(200);
        }
    }

    [GeneratedRegex(@"as slurm job (\d+)")]
    private static partial Regex SubmittedJob();
}

using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>Engines started by OpenMPI's mpirun, calling MPI from the C# sent to them.</summary>
public sealed class MpiTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [MpirunFact]
    public async Task CapclusterMpirun_FourEngines_AllreduceInEngineCode_SameSumOnAll_RanksAreIds()
    {
        await using var cluster = new ClusterDirectory();

        var start = await cluster.RunAsync("capcluster", "mpirun", "-n", "4");
        Assert.True(start.ExitCode == 0, start.ToString());

        await using var mec = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        var engines = await mec.GetEnginesAsync().WaitAsync(Timeout);
        Assert.Equal([0, 1, 2, 3], engines.Select(e => e.Id).Order());
        Assert.All(engines, e => Assert.Equal(e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Properties["mpi.rank"]));
        Assert.All(engines, e => Assert.Equal("4", e.Properties["mpi.size"]));

        // A different array on each engine: engine i holds [i, 10 i, 100 i].
        foreach (var id in new[] { 0, 1, 2, 3 })
        {
            await mec.PushAsync("mine", new double[] { id, 10 * id, 100 * id }, [id]).GetAsync(Timeout);
        }

        await mec.ExecuteAsync("var total = Mpi.World.Allreduce(mine, ReduceOp.Sum); var rank = Mpi.World.Rank;").GetAsync(Timeout);

        var totals = await mec.PullAsync<double[]>("total").GetAsync(Timeout);
        Assert.Equal(4, totals.Count);
        Assert.All(totals, t => Assert.Equal(new double[] { 6, 60, 600 }, t));
        Assert.Equal([0, 1, 2, 3], await mec.PullAsync<int>("rank").GetAsync(Timeout));

        var stop = await cluster.RunAsync("capcluster", "stop");
        Assert.True(stop.ExitCode == 0, stop.ToString());
    }

    [MpirunFact]
    public async Task EnginesStartedByMpirunWithoutMpiFlag_RegisterAndWork_WithoutMpiInit()
    {
        await using var cluster = new ClusterDirectory();
        await cluster.StartControllerAsync();
        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/mpirun")
        {
            ArgumentList = { "-n", "2", "--oversubscribe", "-x", "TERM=dumb", "-x", "CAPCLUSTER_DIR", Repository.App("capengine") },
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (Environment.UserName == "root")
        {
            start.ArgumentList.Insert(2, "--allow-run-as-root");
        }

        start.Environment["CAPCLUSTER_DIR"] = cluster.BaseFolder;
        var mpirun = new BackgroundProcess(System.Diagnostics.Process.Start(start)!);
        try
        {
            await using var mec = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
            await ClusterDirectory.WaitForEnginesAsync(mec, 2, Timeout);
            var engines = await mec.GetEnginesAsync().WaitAsync(Timeout);
            Assert.All(engines, e => Assert.False(e.Properties.ContainsKey("mpi")));
            var initialized = await mec.ExecuteAsync("CapCluster.Mpi.Mpi.IsInitialized").GetAsync(Timeout);
            Assert.All(initialized, r => Assert.Equal("False", r.ValueText));
        }
        finally
        {
            mpirun.Process.Kill(entireProcessTree: true);
            await mpirun.Process.WaitForExitAsync().WaitAsync(Timeout);
        }
    }
}

/// <summary>A fact that needs OpenMPI's mpirun; skipped, with the reason, when it is absent.</summary>
public sealed class MpirunFactAttribute : FactAttribute
{
    public MpirunFactAttribute()
    {
        if (!File.Exists("/usr/bin/mpirun"))
        {
            Skip = "OpenMPI's mpirun is not installed (./test.sh installs openmpi-bin)";
        }
    }
}

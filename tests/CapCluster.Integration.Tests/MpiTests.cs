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

using CapCluster.Mpi.Tests.Infrastructure;

namespace CapCluster.Mpi.Tests;

/// <summary>Four real MPI processes under mpirun, once per dispatch path of the binding.</summary>
public sealed class MpirunTests
{
    private const int Ranks = 4;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    // multiple: calls go straight to MPI; serialized: under one lock; funneled: through the MPI thread.
    [MpirunTheory]
    [InlineData("multiple", "Multiple")]
    [InlineData("serialized", "Serialized")]
    [InlineData("funneled", "Funneled")]
    public async Task FourRanks_EveryOperation_GivesTheExpectedResultOnEveryRank(string requested, string granted)
    {
        var run = await MpirunResult.RunAsync(Ranks, requested, Timeout);

        Assert.True(run.ExitCode == 0, $"mpirun exited with {run.ExitCode}.\nstdout:\n{run.Output}\nstderr:\n{run.Error}");
        for (int rank = 0; rank < Ranks; rank++)
        {
            Assert.Equal("4", run[rank, "size"]);
            Assert.Equal(granted, run[rank, "granted"]);
            Assert.Equal("passed", run[rank, "barrier"]);
            int previous = (rank + Ranks - 1) % Ranks;
            Assert.Equal($"{previous}", run[rank, "ring"]);
            Assert.Equal($"{previous}.5,{previous * 10}", run[rank, "ringArray"]);
            Assert.Equal("42", run[rank, "bcastScalar"]);
            Assert.Equal("1,2,65535", run[rank, "bcastArray"]);
            Assert.Equal(rank == 0 ? "10" : "null", run[rank, "reduceScalar"]);
            Assert.Equal(rank == Ranks - 1 ? "6,4,-6" : "null", run[rank, "reduceArray"]);
            Assert.Equal("10", run[rank, "allreduceSum"]);
            Assert.Equal("24", run[rank, "allreduceProduct"]);
            Assert.Equal("4.5", run[rank, "allreduceMax"]);
            Assert.Equal("-1", run[rank, "allreduceMin"]);
            Assert.Equal("1,3", run[rank, "allreduceArray"]);
            Assert.Equal("15", run[rank, "allreduceBor"]);
            Assert.Equal("0", run[rank, "allreduceLand"]);
            Assert.Equal("6", run[rank, "allreduceFromThreadPool"]);
            Assert.Equal(rank == 0 ? "0,1,4,9" : "null", run[rank, "gatherScalar"]);
            Assert.Equal(rank == 0 ? "0,0,1,-1,2,-2,3,-3" : "null", run[rank, "gatherArray"]);
            Assert.Equal("0,100,200,300", run[rank, "allgather"]);
            Assert.Equal($"{2 * rank},{2 * rank + 1}", run[rank, "scatter"]);
            Assert.Equal("MpiException", run[rank, "scatterBad"]);
            Assert.StartsWith("MPI_Send|", run[rank, "sendBadRank"], StringComparison.Ordinal);
            Assert.Contains("MPI_Send failed", run[rank, "sendBadRank"], StringComparison.Ordinal);
            Assert.Equal("caught", run[rank, "nullRef"]);
            Assert.Equal("True", run[rank, "finalized"]);
            Assert.Equal("MpiException", run[rank, "afterFinalize"]);
        }

        Assert.Equal("5,6,7", run[1, "partial"]);
    }
}

using CapCluster.Mpi.Tests.Infrastructure;

namespace CapCluster.Mpi.Tests;

/// <summary>
/// The MPICH ABI (32-bit integer handles) through a real MPICH library, in a child process run as an MPI
/// singleton: this process already holds Open MPI, and a process can initialise MPI only once.
/// </summary>
public sealed class MpichAbiTests
{
    [MpichTheory]
    [InlineData("multiple", "Multiple")]
    [InlineData("funneled", "Funneled")]
    public async Task Singleton_EveryOperation_WorksThroughIntegerHandles(string requested, string granted)
    {
        var run = await MpirunResult.RunSingletonAsync(requested, MpiEnvironment.MpichLibrary!, TimeSpan.FromMinutes(2));

        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}.\nstdout:\n{run.Output}\nstderr:\n{run.Error}");
        Assert.Equal(MpiEnvironment.MpichLibrary, run[0, "library"]);
        Assert.Equal("1", run[0, "size"]);
        Assert.Equal(granted, run[0, "granted"]);
        Assert.Equal("42", run[0, "bcastScalar"]);
        Assert.Equal("1,2,65535", run[0, "bcastArray"]);
        Assert.Equal("1", run[0, "reduceScalar"]);
        Assert.Equal("0,1,0", run[0, "reduceArray"]);
        Assert.Equal("1", run[0, "allreduceSum"]);
        Assert.Equal("-1", run[0, "allreduceMin"]);
        Assert.Equal("1,0", run[0, "allreduceArray"]);
        Assert.Equal("0,0", run[0, "gatherArray"]);
        Assert.Equal("0", run[0, "allgather"]);
        Assert.Equal("0,1", run[0, "scatter"]);
        Assert.StartsWith("MPI_Send|", run[0, "sendBadRank"], StringComparison.Ordinal);
        Assert.Contains("Invalid rank", run[0, "sendBadRank"], StringComparison.Ordinal);

        // UCX, loaded with libmpich, replaces the SIGSEGV handler; the binding puts .NET's back.
        Assert.Equal("caught", run[0, "nullRef"]);
        Assert.Equal("True", run[0, "finalized"]);
    }
}

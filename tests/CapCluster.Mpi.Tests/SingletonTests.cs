using CapCluster.Mpi.Tests.Infrastructure;

namespace CapCluster.Mpi.Tests;

/// <summary>The binding in this process, without mpirun: a world of one.</summary>
[Collection(InProcessMpiCollection.Name)]
public sealed class SingletonTests
{
    [MpiLibraryFact]
    public void World_WithoutMpirun_IsRankZeroOfOne()
    {
        Assert.True(Mpi.IsInitialized);
        Assert.False(Mpi.IsFinalized);
        Assert.Equal(0, Mpi.World.Rank);
        Assert.Equal(1, Mpi.World.Size);
        Assert.Equal(ThreadLevel.Multiple, Mpi.ThreadLevel);
        Assert.NotEmpty(Mpi.LibraryVersion);
        Mpi.World.Barrier();
    }

    [MpiLibraryFact]
    public void Initialize_Twice_DoesNothing()
    {
        var world = Mpi.World;
        Mpi.Initialize();
        Assert.Same(world, Mpi.World);
    }

    [MpiLibraryFact]
    public void Allreduce_OfOneProcess_ReturnsTheInput()
    {
        var input = new[] { 1.5, -2, 3e300 };
        var result = Mpi.World.Allreduce(input, ReduceOp.Sum);
        Assert.Equal(input, result);
        Assert.NotSame(input, result);
        Assert.Equal(7L, Mpi.World.Allreduce(7L, ReduceOp.Max));
        Assert.Equal(ulong.MaxValue, Mpi.World.Allreduce(ulong.MaxValue, ReduceOp.BitwiseOr));
    }

    [MpiLibraryFact]
    public void Reduce_OnRoot_ReturnsTheInput()
    {
        Assert.Equal(new short[] { 3, -4 }, Mpi.World.Reduce(new short[] { 3, -4 }, ReduceOp.Product, 0));
        Assert.Equal(2.5f, Mpi.World.Reduce(2.5f, ReduceOp.Min, 0));
    }

    [MpiLibraryFact]
    public void Bcast_FromSelf_KeepsTheValue()
    {
        var data = new uint[] { 1, uint.MaxValue };
        Mpi.World.Bcast(data, 0);
        Assert.Equal(new uint[] { 1, uint.MaxValue }, data);
        Assert.Equal((sbyte)-5, Mpi.World.Bcast((sbyte)-5, 0));
    }

    [MpiLibraryFact]
    public void GatherAndScatter_OfOneProcess_ReturnTheWholeArray()
    {
        Assert.Equal(new byte[] { 1, 2, 3 }, Mpi.World.Gather(new byte[] { 1, 2, 3 }, 0));
        Assert.Equal(new[] { 9 }, Mpi.World.Gather(9, 0));
        Assert.Equal(new ushort[] { 4, 5 }, Mpi.World.Allgather(new ushort[] { 4, 5 }));
        Assert.Equal(new[] { 1, 2, 3, 4 }, Mpi.World.Scatter(new[] { 1, 2, 3, 4 }, 0));
    }

    [MpiLibraryFact]
    public void Scatter_WithoutDataOnRoot_FailsClearly()
    {
        var error = Assert.Throws<MpiException>(() => Mpi.World.Scatter<int>(null, 0));
        Assert.Contains("root 0", error.Message, StringComparison.Ordinal);
    }

    [MpiLibraryFact]
    public void Send_ToRankOutsideTheWorld_ThrowsWithTheMpiErrorText()
    {
        var error = Assert.Throws<MpiException>(() => Mpi.World.Send(new[] { 1 }, dest: 5, tag: 0));
        Assert.Equal("MPI_Send", error.Function);
        Assert.NotEqual(0, error.ErrorCode);
        Assert.Contains("MPI_Send failed", error.Message, StringComparison.Ordinal);
        Assert.Contains("rank", error.Message, StringComparison.OrdinalIgnoreCase);

        // MPI keeps working after an error, since the world returns errors instead of aborting.
        Assert.Equal(3, Mpi.World.Allreduce(3, ReduceOp.Sum));
    }

    [MpiLibraryFact]
    public void LogicalOp_OnDouble_IsRejectedByMpi()
    {
        var error = Assert.Throws<MpiException>(() => Mpi.World.Allreduce(1.0, ReduceOp.LogicalAnd));
        Assert.Equal("MPI_Allreduce", error.Function);
    }

    [MpiLibraryFact]
    public void Collective_WithRootOutsideTheWorld_IsRefusedBeforeMpi()
    {
        var error = Assert.Throws<MpiException>(() => Mpi.World.Bcast(1, root: 1));
        Assert.Contains("Root 1", error.Message, StringComparison.Ordinal);
        Assert.Null(error.Function);
    }

    [MpiLibraryFact]
    public void UnsupportedElementType_IsRefusedNamingTheType()
    {
        var error = Assert.Throws<MpiException>(() => Mpi.World.Allreduce('x', ReduceOp.Sum));
        Assert.Contains("System.Char", error.Message, StringComparison.Ordinal);
        Assert.Contains("double", error.Message, StringComparison.Ordinal);
        Assert.Throws<MpiException>(() => Mpi.World.Send(new decimal[1], 0, 0));
    }

    [MpiLibraryFact]
    public void NullReference_AfterInitialize_IsStillAnException()
    {
        string? nothing = Environment.ProcessorCount > 0 ? null : "x";
        Assert.Throws<NullReferenceException>(() => nothing!.Length);
    }

    [MpiLibraryFact]
    public async Task Calls_FromManyThreadsAtOnce_AllSucceed()
    {
        var calls = Enumerable.Range(0, 16).Select(i => Task.Run(() => Mpi.World.Allreduce(i, ReduceOp.Sum)));
        int[] results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, 16), results);
    }
}

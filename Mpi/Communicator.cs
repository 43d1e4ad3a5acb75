using CapCluster.Mpi.Internal;

namespace CapCluster.Mpi;

/// <summary>
/// An MPI communicator: a group of processes numbered 0..<see cref="Size"/>-1 that exchange typed arrays.
/// Elements must be byte, sbyte, short, ushort, int, uint, long, ulong, float or double (mapped to MPI's
/// fixed-width datatypes); any other type is refused with an <see cref="MpiException"/> before MPI is called.
/// Collective operations (barrier, broadcast, reductions, gather, scatter) must be called by every process
/// of the communicator, in the same order, with the same root.
/// </summary>
public sealed unsafe partial class Communicator
{
    private readonly MpiRuntime runtime;
    private readonly MpiNative native;
    private readonly nint handle;

    internal Communicator(MpiRuntime runtime, nint handle)
    {
        this.runtime = runtime;
        native = runtime.Native;
        this.handle = handle;
        Rank = runtime.Run(() =>
        {
            int rank;
            runtime.Check("MPI_Comm_rank", native.CommRank(handle, &rank));
            return rank;
        });
        Size = runtime.Run(() =>
        {
            int size;
            runtime.Check("MPI_Comm_size", native.CommSize(handle, &size));
            return size;
        });
    }

    /// <summary>This process's rank in the communicator, from 0.</summary>
    public int Rank { get; }

    /// <summary>The number of processes in the communicator.</summary>
    public int Size { get; }

    /// <summary>Blocks until every process of the communicator has called it (MPI_Barrier).</summary>
    public void Barrier() => runtime.Run(() => runtime.Check("MPI_Barrier", native.Barrier(handle)));

    private void CheckRoot(int root)
    {
        if ((uint)root >= (uint)Size)
        {
            throw MpiErrors.BadRoot(root, Size);
        }
    }
}

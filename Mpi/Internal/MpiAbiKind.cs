namespace CapCluster.Mpi.Internal;

internal enum MpiAbiKind
{
    /// <summary>Open MPI (libmpi.so.40): handles are addresses of exported globals.</summary>
    OpenMpi,

    /// <summary>The MPICH ABI (libmpi.so.12: MPICH, Intel MPI, MVAPICH): handles are 32-bit constants.</summary>
    Mpich,
}

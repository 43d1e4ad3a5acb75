namespace CapCluster.Mpi.Internal;

/// <summary>The MPICH ABI's predefined handles: integer constants from MPICH's mpi.h.</summary>
internal static class MpichHandles
{
    public const int CommWorld = 0x44000000;
    public const int ErrorsReturn = 0x54000001;

    /// <summary>Indexed by <see cref="MpiDatatype"/>: MPI_INT8_T ... MPI_UINT64_T, MPI_FLOAT, MPI_DOUBLE.</summary>
    public static readonly nint[] Datatypes =
    [
        0x4c000137, 0x4c00013b, 0x4c000238, 0x4c00023c, 0x4c000439,
        0x4c00043d, 0x4c00083a, 0x4c00083e, 0x4c00040a, 0x4c00080b,
    ];

    /// <summary>Indexed by <see cref="ReduceOp"/>: MPI_SUM, MPI_PROD, MPI_MIN, MPI_MAX, MPI_LAND, MPI_LOR, MPI_LXOR, MPI_BAND, MPI_BOR, MPI_BXOR.</summary>
    public static readonly nint[] Ops =
    [
        0x58000003, 0x58000004, 0x58000002, 0x58000001, 0x58000005,
        0x58000007, 0x58000009, 0x58000006, 0x58000008, 0x5800000a,
    ];
}

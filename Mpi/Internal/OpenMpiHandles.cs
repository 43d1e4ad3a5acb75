namespace CapCluster.Mpi.Internal;

/// <summary>Open MPI's predefined handles are the addresses of these exported globals (mpi.h, OMPI_PREDEFINED_GLOBAL).</summary>
internal static class OpenMpiHandles
{
    /// <summary>Indexed by <see cref="MpiDatatype"/>.</summary>
    public static readonly string[] Datatypes =
    [
        "ompi_mpi_int8_t", "ompi_mpi_uint8_t", "ompi_mpi_int16_t", "ompi_mpi_uint16_t", "ompi_mpi_int32_t",
        "ompi_mpi_uint32_t", "ompi_mpi_int64_t", "ompi_mpi_uint64_t", "ompi_mpi_float", "ompi_mpi_double",
    ];

    /// <summary>Indexed by <see cref="ReduceOp"/>.</summary>
    public static readonly string[] Ops =
    [
        "ompi_mpi_op_sum", "ompi_mpi_op_prod", "ompi_mpi_op_min", "ompi_mpi_op_max", "ompi_mpi_op_land",
        "ompi_mpi_op_lor", "ompi_mpi_op_lxor", "ompi_mpi_op_band", "ompi_mpi_op_bor", "ompi_mpi_op_bxor",
    ];
}

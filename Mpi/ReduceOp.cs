namespace CapCluster.Mpi;

/// <summary>
/// A predefined MPI reduction. Logical and bitwise operations are defined by MPI for integer types only;
/// the MPI library rejects them for <see cref="float"/> and <see cref="double"/> with an <see cref="MpiException"/>.
/// </summary>
public enum ReduceOp
{
    /// <summary>MPI_SUM.</summary>
    Sum,

    /// <summary>MPI_PROD.</summary>
    Product,

    /// <summary>MPI_MIN.</summary>
    Min,

    /// <summary>MPI_MAX.</summary>
    Max,

    /// <summary>MPI_LAND: non-zero is true; the result is 1 or 0.</summary>
    LogicalAnd,

    /// <summary>MPI_LOR: non-zero is true; the result is 1 or 0.</summary>
    LogicalOr,

    /// <summary>MPI_LXOR: non-zero is true; the result is 1 or 0.</summary>
    LogicalXor,

    /// <summary>MPI_BAND.</summary>
    BitwiseAnd,

    /// <summary>MPI_BOR.</summary>
    BitwiseOr,

    /// <summary>MPI_BXOR.</summary>
    BitwiseXor,
}

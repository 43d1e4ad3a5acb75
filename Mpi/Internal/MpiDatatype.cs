namespace CapCluster.Mpi.Internal;

/// <summary>The element types the binding moves, each mapped to MPI's fixed-width datatype.</summary>
internal enum MpiDatatype
{
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float,
    Double,
}

internal static class MpiDatatypes
{
    public static MpiDatatype Of<T>()
        where T : unmanaged
    {
        // typeof(T) comparisons are folded by the JIT for each value-type instantiation.
        if (typeof(T) == typeof(sbyte)) return MpiDatatype.Int8;
        if (typeof(T) == typeof(byte)) return MpiDatatype.UInt8;
        if (typeof(T) == typeof(short)) return MpiDatatype.Int16;
        if (typeof(T) == typeof(ushort)) return MpiDatatype.UInt16;
        if (typeof(T) == typeof(int)) return MpiDatatype.Int32;
        if (typeof(T) == typeof(uint)) return MpiDatatype.UInt32;
        if (typeof(T) == typeof(long)) return MpiDatatype.Int64;
        if (typeof(T) == typeof(ulong)) return MpiDatatype.UInt64;
        if (typeof(T) == typeof(float)) return MpiDatatype.Float;
        if (typeof(T) == typeof(double)) return MpiDatatype.Double;
        throw MpiErrors.UnsupportedType(typeof(T));
    }
}

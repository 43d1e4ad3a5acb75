using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Values.Internal;

/// <summary>The .NET types behind <see cref="ScalarType"/>.</summary>
internal static class ScalarTypes
{
    private static readonly Dictionary<Type, ScalarType> s_byType = new()
    {
        [typeof(bool)] = ScalarType.Bool,
        [typeof(char)] = ScalarType.Char,
        [typeof(sbyte)] = ScalarType.Sbyte,
        [typeof(byte)] = ScalarType.Byte,
        [typeof(short)] = ScalarType.Int16,
        [typeof(ushort)] = ScalarType.Uint16,
        [typeof(int)] = ScalarType.Int32,
        [typeof(uint)] = ScalarType.Uint32,
        [typeof(long)] = ScalarType.Int64,
        [typeof(ulong)] = ScalarType.Uint64,
        [typeof(float)] = ScalarType.Float,
        [typeof(double)] = ScalarType.Double,
        [typeof(decimal)] = ScalarType.Decimal,
        [typeof(string)] = ScalarType.String,
    };

    /// <summary>The scalar type of <paramref name="type"/>, or Unspecified.</summary>
    public static ScalarType Of(Type type) => s_byType.GetValueOrDefault(type, ScalarType.Unspecified);

    /// <summary>Element types that travel as raw bytes in a <see cref="NumericArray"/>.</summary>
    public static bool IsArrayElement(Type type) => type.IsPrimitive && type != typeof(IntPtr) && type != typeof(UIntPtr) && s_byType.ContainsKey(type);

    public static Type? ClrType(ScalarType type) => type switch
    {
        ScalarType.Bool => typeof(bool),
        ScalarType.Char => typeof(char),
        ScalarType.Sbyte => typeof(sbyte),
        ScalarType.Byte => typeof(byte),
        ScalarType.Int16 => typeof(short),
        ScalarType.Uint16 => typeof(ushort),
        ScalarType.Int32 => typeof(int),
        ScalarType.Uint32 => typeof(uint),
        ScalarType.Int64 => typeof(long),
        ScalarType.Uint64 => typeof(ulong),
        ScalarType.Float => typeof(float),
        ScalarType.Double => typeof(double),
        ScalarType.Decimal => typeof(decimal),
        ScalarType.String => typeof(string),
        _ => null,
    };

    /// <summary>Bytes per element of an array element type, or 0 when it cannot be an array element.</summary>
    public static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Bool or ScalarType.Sbyte or ScalarType.Byte => 1,
        ScalarType.Char or ScalarType.Int16 or ScalarType.Uint16 => 2,
        ScalarType.Int32 or ScalarType.Uint32 or ScalarType.Float => 4,
        ScalarType.Int64 or ScalarType.Uint64 or ScalarType.Double => 8,
        _ => 0,
    };
}

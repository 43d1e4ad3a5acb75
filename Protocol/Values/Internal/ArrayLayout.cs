using System.Reflection;
using System.Runtime.InteropServices;
using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Values.Internal;

/// <summary>Checks array headers from the wire and allocates the arrays they describe.</summary>
internal static class ArrayLayout
{
    private const int MaxRank = 32;

    /// <summary>The element type and lengths of a well-formed header; throws for any other.</summary>
    public static (Type ElementType, int[] Lengths) Validate(NumericArray header)
    {
        int size = ScalarTypes.ElementSize(header.ElementType);
        if (size == 0 || ScalarTypes.ClrType(header.ElementType) is not { } elementType)
        {
            throw ValueErrors.Malformed($"an array has element type {header.ElementType}, which is not a numeric array element");
        }

        if (header.Shape.Count is < 1 or > MaxRank)
        {
            throw ValueErrors.Malformed($"an array has rank {header.Shape.Count} (1 to {MaxRank} allowed)");
        }

        var lengths = new int[header.Shape.Count];
        long count = 1;
        for (int d = 0; d < lengths.Length; d++)
        {
            long length = header.Shape[d];
            if (length < 0 || length > Array.MaxLength)
            {
                throw ValueErrors.Malformed($"an array has dimension {d} of length {length}");
            }

            lengths[d] = (int)length;
            count = length == 0 || count <= long.MaxValue / size / length ? count * length : -1;
            if (count < 0)
            {
                throw ValueErrors.Malformed("an array's shape overflows");
            }
        }

        if (count > Array.MaxLength && lengths.Length == 1)
        {
            throw ValueErrors.Malformed($"an array of {count} elements is too large");
        }

        if (count * size != header.ByteLength)
        {
            throw ValueErrors.Malformed($"an array of shape [{string.Join(", ", lengths)}] of {header.ElementType} needs {count * size} bytes but claims {header.ByteLength}");
        }

        return (elementType, lengths);
    }

    /// <summary>The array a blob fills: every byte of it is written before the value can be decoded.</summary>
    public static Array Allocate(Type elementType, int[] lengths)
    {
        try
        {
            return lengths.Length == 1 ? AllocateToOverwrite(elementType, lengths[0]) : Array.CreateInstance(elementType, lengths);
        }
        catch (Exception e) when (e is OutOfMemoryException or ArgumentException)
        {
            throw ValueErrors.Malformed($"an array of shape [{string.Join(", ", lengths)}] cannot be allocated here", e);
        }
    }

    /// <summary>
    /// A vector the caller overwrites whole before anyone reads it. One of a numeric element type is not zeroed
    /// first: when the GC hands back memory it has used before, zeroing a large array costs about 4 ms per 128 MiB,
    /// on the thread that is about to receive or copy into it. Other element types come zeroed as usual.
    /// </summary>
    public static Array AllocateToOverwrite(Type elementType, int length) =>
        Uninitialized.TryGetValue(elementType, out var allocate) ? allocate(length) : Array.CreateInstance(elementType, length);

    private static readonly Dictionary<Type, Func<int, Array>> Uninitialized = new[]
    {
        typeof(bool), typeof(char), typeof(sbyte), typeof(byte), typeof(short), typeof(ushort), typeof(int), typeof(uint),
        typeof(long), typeof(ulong), typeof(float), typeof(double), typeof(decimal),
    }.ToDictionary(
        type => type,
        type => typeof(ArrayLayout).GetMethod(nameof(UninitializedVector), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(type).CreateDelegate<Func<int, Array>>());

    private static T[] UninitializedVector<T>(int length) => GC.AllocateUninitializedArray<T>(length);

    /// <summary>Bytes other than 0 and 1 in a received bool[] become 1, so every element is a proper bool.</summary>
    public static void NormalizeBooleans(Array array)
    {
        if (array.GetType().GetElementType() != typeof(bool))
        {
            return;
        }

        var bytes = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(array), (int)array.LongLength);
        foreach (ref byte b in bytes)
        {
            if (b > 1)
            {
                b = 1;
            }
        }
    }
}

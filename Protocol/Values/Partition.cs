using System.Collections;
using System.Runtime.InteropServices;
using CapCluster.Protocol.Values.Internal;

namespace CapCluster.Protocol.Values;

/// <summary>
/// Splitting sequences for scatter and joining the pieces for gather, as ipyparallel does.
/// </summary>
public static class Partition
{
    /// <summary>Joined results at least this large are copied a part per thread (see <see cref="CopyParts"/>).</summary>
    private const long ParallelCopyMinimum = 8 * 1024 * 1024;

    /// <summary>
    /// Splits <paramref name="length"/> items into <paramref name="parts"/> contiguous
    /// blocks whose sizes differ by at most one, the larger blocks first. With more parts
    /// than items, the last blocks are empty.
    /// </summary>
    public static IReadOnlyList<(int Start, int Count)> Blocks(int length, int parts)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parts);
        int size = length / parts;
        int larger = length % parts;
        var blocks = new (int Start, int Count)[parts];
        int start = 0;
        for (int i = 0; i < parts; i++)
        {
            int count = i < larger ? size + 1 : size;
            blocks[i] = (start, count);
            start += count;
        }

        return blocks;
    }

    /// <summary>
    /// Items [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) of a sequence, to be
    /// sent: for a numeric array of any rank, a view of those rows that the value codec sends straight from the
    /// array's memory (no copy; the array must not change until the send is done); otherwise <see cref="Slice"/>.
    /// </summary>
    public static object View(object sequence, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        if (sequence is Array array && ScalarTypes.IsArrayElement(array.GetType().GetElementType()!))
        {
            CheckRange(array.Rank == 1 ? array.Length : array.GetLength(0), start, count);
            return new ArrayRows(array, start, count);
        }

        return Slice(sequence, start, count);
    }

    /// <summary>
    /// Copies items [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>)
    /// of a sequence: a new <c>T[]</c> from a one-dimensional array; a new array of the same
    /// trailing dimensions from a multi-dimensional numeric array (rows along the first
    /// dimension); a new <see cref="List{T}"/> from a <see cref="List{T}"/>; a new
    /// <c>List&lt;object?&gt;</c> from any other <see cref="IList"/>.
    /// </summary>
    public static object Slice(object sequence, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        switch (sequence)
        {
            case Array { Rank: 1 } array:
                CheckRange(array.Length, start, count);
                var slice = Array.CreateInstance(array.GetType().GetElementType()!, count);
                Array.Copy(array, start, slice, 0, count);
                return slice;
            case Array array when ScalarTypes.IsArrayElement(array.GetType().GetElementType()!):
                CheckRange(array.GetLength(0), start, count);
                return SliceRows(array, start, count);
            case IList list:
                CheckRange(list.Count, start, count);
                var type = list.GetType();
                if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
                {
                    return type.GetMethod(nameof(List<int>.GetRange))!.Invoke(list, [start, count])!;
                }

                var result = new List<object?>(count);
                for (int i = start; i < start + count; i++)
                {
                    result.Add(list[i]);
                }

                return result;
            default:
                throw new ArgumentException($"{ValueErrors.TypeName(sequence.GetType())} cannot be sliced: scatter takes arrays and lists.", nameof(sequence));
        }
    }

    /// <summary>
    /// Joins pieces made by <see cref="Slice"/> (or gathered from engines): arrays of one
    /// element type and rank into one array (along the first dimension);
    /// <see cref="List{T}"/>s of one <c>T</c> into a <see cref="List{T}"/>; any other mix of
    /// lists and one-dimensional arrays into a <c>List&lt;object?&gt;</c>. No parts gives an
    /// empty <c>List&lt;object?&gt;</c>.
    /// </summary>
    public static object Concatenate(IReadOnlyList<object?> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            return new List<object?>();
        }

        for (int i = 0; i < parts.Count; i++)
        {
            if (parts[i] is not IList)
            {
                throw new ArgumentException($"Part {i} ({(parts[i] is null ? "null" : ValueErrors.TypeName(parts[i]!.GetType()))}) is not an array or a list.", nameof(parts));
            }
        }

        var firstType = parts[0]!.GetType();
        bool sameType = parts.All(p => p!.GetType() == firstType);
        if (sameType && firstType.IsArray)
        {
            return firstType.GetArrayRank() == 1 ? ConcatenateVectors(parts) : ConcatenateRows(parts);
        }

        if (parts.Any(p => p is Array { Rank: > 1 }))
        {
            throw new ArgumentException("Multi-dimensional arrays can be joined only with arrays of the same element type and rank.", nameof(parts));
        }

        var elementType = sameType && firstType.IsGenericType && firstType.GetGenericTypeDefinition() == typeof(List<>)
            ? firstType.GetGenericArguments()[0]
            : typeof(object);
        var result = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(elementType), parts.Sum(p => ((IList)p!).Count))!;
        foreach (var part in parts)
        {
            foreach (object? item in (IList)part!)
            {
                result.Add(item);
            }
        }

        return result;
    }

    private static void CheckRange(int length, int start, int count)
    {
        if (start < 0 || count < 0 || start > length - count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, {start}+{count}) is outside a sequence of {length} items.");
        }
    }

    private static Array SliceRows(Array array, int start, int count)
    {
        var lengths = Enumerable.Range(0, array.Rank).Select(array.GetLength).ToArray();
        long rowBytes = RowBytes(array, lengths);
        lengths[0] = count;
        var slice = Array.CreateInstance(array.GetType().GetElementType()!, lengths);
        Bytes(array).Slice((int)(start * rowBytes), (int)(count * rowBytes)).CopyTo(Bytes(slice));
        return slice;
    }

    private static Array ConcatenateVectors(IReadOnlyList<object?> parts)
    {
        var arrays = parts.Cast<Array>().ToList();
        var elementType = arrays[0].GetType().GetElementType()!;
        var result = ArrayLayout.AllocateToOverwrite(elementType, arrays.Sum(p => p.Length));
        CopyParts(result, arrays.ConvertAll(a => a.LongLength), (i, offset) => Array.Copy(arrays[i], 0, result, offset, arrays[i].LongLength));
        return result;
    }

    private static Array ConcatenateRows(IReadOnlyList<object?> parts)
    {
        var first = (Array)parts[0]!;
        if (!ScalarTypes.IsArrayElement(first.GetType().GetElementType()!))
        {
            throw new ArgumentException("Multi-dimensional arrays can be joined only with a primitive numeric element type.", nameof(parts));
        }

        var lengths = Enumerable.Range(0, first.Rank).Select(first.GetLength).ToArray();
        foreach (Array part in parts.Cast<Array>())
        {
            for (int d = 1; d < lengths.Length; d++)
            {
                if (part.GetLength(d) != lengths[d])
                {
                    throw new ArgumentException($"The parts differ in dimension {d} ({part.GetLength(d)} and {lengths[d]}).", nameof(parts));
                }
            }
        }

        lengths[0] = parts.Sum(p => ((Array)p!).GetLength(0));
        var result = Array.CreateInstance(first.GetType().GetElementType()!, lengths);
        var arrays = parts.Cast<Array>().ToList();
        var sizes = arrays.ConvertAll(a => (long)Bytes(a).Length);
        CopyParts(result, sizes, (i, offset) => Bytes(arrays[i]).CopyTo(Bytes(result)[(int)offset..]));
        return result;
    }

    /// <summary>
    /// Runs <paramref name="copy"/>(part, offset) for each part, the offsets being the running sums of
    /// <paramref name="sizes"/>. A result of <see cref="ParallelCopyMinimum"/> bytes or more is filled a part per
    /// thread-pool thread: its fresh pages' faults and the copying are shared by the cores, which at the end of a
    /// gather have nothing else to do; and it is backed by 2 MiB pages while it is filled (<see cref="Data.Prefault.For"/>),
    /// a fault for every 512 pages.
    /// </summary>
    private static void CopyParts(Array result, List<long> sizes, Action<int, long> copy)
    {
        var totalBytes = ByteLength(result);
        using var hugePages = Data.Prefault.For(result, totalBytes);
        var offsets = new long[sizes.Count];
        for (int i = 1; i < sizes.Count; i++)
        {
            offsets[i] = offsets[i - 1] + sizes[i - 1];
        }

        if (sizes.Count > 1 && totalBytes >= ParallelCopyMinimum)
        {
            Parallel.For(0, sizes.Count, i => copy(i, offsets[i]));
            return;
        }

        for (int i = 0; i < sizes.Count; i++)
        {
            copy(i, offsets[i]);
        }
    }

    private static long RowBytes(Array array, int[] lengths)
    {
        long elements = 1;
        for (int d = 1; d < lengths.Length; d++)
        {
            elements *= lengths[d];
        }

        return elements * ScalarTypes.ElementSize(ScalarTypes.Of(array.GetType().GetElementType()!));
    }

    private static Span<byte> Bytes(Array array) =>
        MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(array), checked((int)ByteLength(array)));

    /// <summary>The bytes of an array's elements: a reference's size each, for an element type that is not a primitive.</summary>
    private static long ByteLength(Array array)
    {
        var elementType = array.GetType().GetElementType()!;
        return array.LongLength * (ScalarTypes.IsArrayElement(elementType) ? ScalarTypes.ElementSize(ScalarTypes.Of(elementType)) : IntPtr.Size);
    }
}

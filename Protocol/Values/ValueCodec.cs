using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values.Internal;

namespace CapCluster.Protocol.Values;

/// <summary>
/// Turns .NET values into a <see cref="Value"/> tree plus blobs and back.
/// </summary>
/// <remarks>
/// <para>Sendable: null, bool, every integer type, float, double, decimal, char, string;
/// arrays of any rank of bool, char, sbyte, byte, short, ushort, int, uint, long, ulong,
/// float or double (raw little-endian bytes plus shape; byte[] is one of them); other
/// one-dimensional arrays, lists and <see cref="IReadOnlyList{T}"/> (as lists);
/// dictionaries; ValueTuple and Tuple of 1 to 7 items; and, as a fallback, plain records
/// and classes as System.Text.Json with their assembly-qualified type name. Anything else
/// is refused with an <see cref="UnsendableValueException"/>.</para>
/// <para>Natural decoded types: scalars as their exact type; numeric arrays as arrays of
/// the exact element type and rank; lists as <see cref="List{T}"/> when the sender's list
/// had a scalar element type, else <c>List&lt;object?&gt;</c>; dictionaries as
/// <see cref="Dictionary{TKey,TValue}"/> likewise (else of object keys and values); tuples
/// as the same tuple kind and arity; JSON as the sender's type when this program agreed to
/// it (<see cref="ValueTypes"/>), else <see cref="System.Text.Json.JsonElement"/> (at most 16 MiB
/// and 64 levels deep).</para>
/// </remarks>
public static class ValueCodec
{
    /// <summary>The largest blob, so that each is one <see cref="Memory{T}"/>: 1 GiB.</summary>
    internal const int DefaultMaxBlobBytes = 1 << 30;

    /// <summary>
    /// Numeric arrays of more raw bytes than this travel as blobs beside the tree; smaller
    /// ones are copied into the tree. Default 64 KiB.
    /// </summary>
    public static int InlineLimit { get; set; } = 64 * 1024;

    /// <summary>
    /// Resolves an assembly-qualified type name of a JSON value that is not in an assembly
    /// already loaded in this process (for example a type defined in an engine's script
    /// load context); a type it returns counts as agreed (<see cref="ValueTypes"/>). Null by
    /// default. Assemblies are never loaded because a peer named them.
    /// </summary>
    public static Func<string, Type?>? TypeResolver { get; set; }

    /// <summary>Encodes <paramref name="value"/> with the current <see cref="InlineLimit"/>.</summary>
    /// <param name="value">The value to send.</param>
    /// <param name="name">How errors name the value, e.g. <c>push 'sock'</c>.</param>
    /// <returns>
    /// The tree and the blobs. The blobs are views over the caller's arrays, not copies:
    /// do not change those arrays until the value has been sent.
    /// </returns>
    /// <exception cref="UnsendableValueException">The value, or something inside it, cannot be sent.</exception>
    public static EncodedValue Encode(object? value, string name) => Encode(value, name, InlineLimit);

    /// <summary>Encodes <paramref name="value"/>, inlining numeric arrays of at most <paramref name="inlineLimit"/> bytes.</summary>
    /// <inheritdoc cref="Encode(object?, string)"/>
    public static EncodedValue Encode(object? value, string name, int inlineLimit) => Encode(value, name, inlineLimit, DefaultMaxBlobBytes);

    internal static EncodedValue Encode(object? value, string name, int inlineLimit, int maxBlobBytes)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfNegative(inlineLimit);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBlobBytes);
        var encoder = new ValueEncoder(name, inlineLimit, maxBlobBytes);
        var tree = encoder.Encode(value, string.Empty, 0);
        return new EncodedValue(tree, encoder.Blobs);
    }

    /// <summary>
    /// Allocates the final array of every blob-carried array in <paramref name="tree"/>,
    /// so that received blob bytes are copied straight into them.
    /// </summary>
    /// <exception cref="MalformedValueException">The tree's array headers are not well formed.</exception>
    public static BlobTargets AllocateTargets(Value tree) => AllocateTargets(tree, long.MaxValue);

    /// <summary>As <see cref="AllocateTargets(Value)"/>, refusing trees whose blobs total more than <paramref name="maxTotalBytes"/>.</summary>
    /// <exception cref="MalformedValueException">The tree is not well formed or its blobs exceed the limit.</exception>
    public static BlobTargets AllocateTargets(Value tree, long maxTotalBytes)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return new BlobAllocator(maxTotalBytes).Allocate(tree);
    }

    /// <summary>
    /// Builds the .NET value. Blob-carried arrays are the very arrays of
    /// <paramref name="blobs"/> (not copied); the caller must have filled them.
    /// </summary>
    /// <exception cref="MalformedValueException">The tree is not well formed, or refers to blobs not given.</exception>
    public static object? Decode(Value tree, BlobTargets? blobs = null)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return ValueDecoder.Decode(tree, blobs, 0);
    }

    /// <summary>Decodes, then converts to <typeparamref name="T"/> with <see cref="ConvertTo"/>.</summary>
    /// <exception cref="MalformedValueException">The tree is not well formed.</exception>
    /// <exception cref="ValueConversionException">The value cannot be a <typeparamref name="T"/>.</exception>
    public static T DecodeAs<T>(Value tree, BlobTargets? blobs = null) => (T)ConvertTo(Decode(tree, blobs), typeof(T))!;

    /// <summary>
    /// Converts a decoded value to <paramref name="target"/>: unchanged when it already is
    /// one; integers and floats when the value fits exactly (a long to int in range, a
    /// whole double to long); enums from integers or names; arrays, lists, dictionaries
    /// and tuples element by element; records and classes from JSON.
    /// </summary>
    /// <exception cref="ValueConversionException">The value cannot be converted; the message names both types.</exception>
    public static object? ConvertTo(object? decoded, Type target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return ValueConverter.Convert(decoded, target);
    }
}

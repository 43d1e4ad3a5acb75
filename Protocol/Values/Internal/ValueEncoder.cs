using System.Collections;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Protocol.Values.Internal;

/// <summary>Builds a <see cref="Value"/> tree, and the blob list, from a .NET object graph.</summary>
internal sealed class ValueEncoder
{
    // Value -> ItemList -> Value is two message levels per container; 32 containers
    // keep the tree well inside protobuf's default parse recursion limit of 100.
    public const int MaxDepth = 32;

    private readonly string _name;
    private readonly int _inlineLimit;
    private readonly int _maxBlobBytes;
    private readonly List<ReadOnlyMemory<byte>> _blobs = [];

    public ValueEncoder(string name, int inlineLimit, int maxBlobBytes)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("CapCluster values are little-endian; this host is big-endian.");
        }

        _name = name;
        _inlineLimit = inlineLimit;
        _maxBlobBytes = maxBlobBytes;
    }

    public IReadOnlyList<ReadOnlyMemory<byte>> Blobs => _blobs;

    public Value Encode(object? value, string path, int depth)
    {
        if (value is null)
        {
            return new Value { IsNull = true };
        }

        var type = value.GetType();
        if (depth > MaxDepth)
        {
            throw ValueErrors.Unsendable(_name, path, type, $"it is nested more than {MaxDepth} levels deep (does it contain itself?)");
        }

        switch (value)
        {
            case bool b: return new Value { BoolValue = b };
            case sbyte v: return new Value { SbyteValue = v };
            case byte v: return new Value { ByteValue = v };
            case short v: return new Value { Int16Value = v };
            case ushort v: return new Value { Uint16Value = v };
            case int v: return new Value { Int32Value = v };
            case uint v: return new Value { Uint32Value = v };
            case long v: return new Value { Int64Value = v };
            case ulong v: return new Value { Uint64Value = v };
            case float v: return new Value { FloatValue = v };
            case double v: return new Value { DoubleValue = v };
            case char v: return new Value { CharValue = v };
            case string v: return new Value { StringValue = v };
            case decimal v: return new Value { DecimalValue = EncodeDecimal(v) };
            case Array array when ScalarTypes.IsArrayElement(type.GetElementType()!):
                return new Value { Array = EncodeArray(array, 0, array.Rank == 1 ? array.Length : array.GetLength(0), path) };
            case ArrayRows rows:
                return new Value { Array = EncodeArray(rows.Array, rows.Start, rows.Count, path) };
            case Array array when array.Rank != 1:
                throw ValueErrors.Unsendable(_name, path, type, "multi-dimensional arrays can be sent only with a primitive numeric element type");
            case ITuple tuple when TupleTypes.IsTuple(type, out _) || TupleTypes.IsLongTuple(type):
                return EncodeTuple(tuple, type, path, depth);
            case IDictionary dictionary:
                return EncodeMap(dictionary, type, path, depth);
            case IList list:
                return EncodeList(list, ListElementType(type), path, depth);
        }

        if (ReadOnlyListElementType(type) is { } elementType)
        {
            return EncodeList((IEnumerable)value, elementType, path, depth);
        }

        return new Value { Json = EncodeJson(value, type, path) };
    }

    private static DecimalBits EncodeDecimal(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        return new DecimalBits { Lo = bits[0], Mid = bits[1], Hi = bits[2], Flags = bits[3] };
    }

    /// <summary>Rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="rows"/>) of <paramref name="array"/> along its first dimension (all of them for a whole array).</summary>
    private NumericArray EncodeArray(Array array, int start, int rows, string path)
    {
        var elementType = ScalarTypes.Of(array.GetType().GetElementType()!);
        var header = new NumericArray { ElementType = elementType };
        long rowElements = 1;
        for (int d = 0; d < array.Rank; d++)
        {
            if (array.GetLowerBound(d) != 0)
            {
                throw ValueErrors.Unsendable(_name, path, array.GetType(), "arrays with a non-zero lower bound cannot be sent");
            }

            header.Shape.Add(d == 0 ? rows : array.GetLength(d));
            rowElements *= d == 0 ? 1 : array.GetLength(d);
        }

        long elementSize = ScalarTypes.ElementSize(elementType);
        long first = start * rowElements * elementSize;
        long byteLength = rows * rowElements * elementSize;
        header.ByteLength = byteLength;
        if (byteLength <= _inlineLimit)
        {
            // Small arrays are copied into the tree, so later changes by the caller do not matter.
            var bytes = new ArrayMemoryManager(array, first, (int)byteLength).GetSpan();
            header.InlineData = ByteString.CopyFrom(bytes);
            return header;
        }

        var range = new BlobRange { BlobIndex = _blobs.Count, BlobBytes = Math.Min(_maxBlobBytes, byteLength) };
        for (long offset = 0; offset < byteLength; offset += _maxBlobBytes)
        {
            int length = (int)Math.Min(_maxBlobBytes, byteLength - offset);
            _blobs.Add(new ArrayMemoryManager(array, first + offset, length).Memory);
            range.BlobCount++;
        }

        header.Blobs = range;
        return header;
    }

    private Value EncodeTuple(ITuple tuple, Type type, string path, int depth)
    {
        if (tuple.Length > 7)
        {
            throw ValueErrors.Unsendable(_name, path, type, "tuples of more than 7 elements cannot be sent; use a list or a record");
        }

        var encoded = new ItemTuple { ReferenceTuple = !type.IsValueType };
        for (int i = 0; i < tuple.Length; i++)
        {
            encoded.Items.Add(Encode(tuple[i], $"{path}.Item{i + 1}", depth + 1));
        }

        return new Value { Tuple = encoded };
    }

    private Value EncodeMap(IDictionary dictionary, Type type, string path, int depth)
    {
        var map = new KeyValueMap();
        if (GenericArguments(type, typeof(IDictionary<,>)) is { } arguments)
        {
            map.KeyType = ScalarTypes.Of(arguments[0]);
            map.ValueType = ScalarTypes.Of(arguments[1]);
        }

        var enumerator = dictionary.GetEnumerator();
        while (enumerator.MoveNext())
        {
            var entry = enumerator.Entry;
            string entryPath = $"{path}[{entry.Key}]";
            map.Keys.Add(Encode(entry.Key, entryPath + " (key)", depth + 1));
            map.Values.Add(Encode(entry.Value, entryPath, depth + 1));
        }

        return new Value { Map = map };
    }

    private Value EncodeList(IEnumerable items, Type? elementType, string path, int depth)
    {
        var list = new ItemList { ElementType = elementType is null ? ScalarType.Unspecified : ScalarTypes.Of(elementType) };
        int i = 0;
        foreach (object? item in items)
        {
            list.Items.Add(Encode(item, $"{path}[{i}]", depth + 1));
            i++;
        }

        return new Value { List = list };
    }

    private static Type? ListElementType(Type type) =>
        type.IsArray ? type.GetElementType() : GenericArguments(type, typeof(IList<>))?[0] ?? GenericArguments(type, typeof(IReadOnlyList<>))?[0];

    private static Type? ReadOnlyListElementType(Type type) => GenericArguments(type, typeof(IReadOnlyList<>))?[0];

    private static Type[]? GenericArguments(Type type, Type genericInterface)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == genericInterface)
        {
            return type.GetGenericArguments();
        }

        foreach (var candidate in type.GetInterfaces())
        {
            if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() == genericInterface)
            {
                return candidate.GetGenericArguments();
            }
        }

        return null;
    }

    private JsonObject EncodeJson(object value, Type type, string path)
    {
        if (JsonValues.Refusal(type) is { } reason)
        {
            throw ValueErrors.Unsendable(_name, path, type, reason);
        }

        byte[] json;
        try
        {
            json = JsonSerializer.SerializeToUtf8Bytes(value, type, JsonValues.Options);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw ValueErrors.Unsendable(_name, path, type, $"it has no JSON form ({e.Message})", e);
        }

        return new JsonObject { TypeName = type.AssemblyQualifiedName ?? type.FullName ?? type.Name, Utf8Json = UnsafeByteOperations.UnsafeWrap(json) };
    }
}

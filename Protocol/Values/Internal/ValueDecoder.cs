using System.Collections;
using System.Runtime.InteropServices;
using System.Text.Json;
using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Values.Internal;

/// <summary>Builds the .NET object graph from a <see cref="Value"/> tree.</summary>
internal static class ValueDecoder
{
    private const int MaxDepth = 100;

    public static object? Decode(Value value, BlobTargets? blobs, int depth)
    {
        if (depth > MaxDepth)
        {
            throw ValueErrors.Malformed($"the tree is nested more than {MaxDepth} levels deep");
        }

        return value.KindCase switch
        {
            Value.KindOneofCase.IsNull => null,
            Value.KindOneofCase.BoolValue => value.BoolValue,
            Value.KindOneofCase.SbyteValue => (sbyte)InRange(value.SbyteValue, sbyte.MinValue, sbyte.MaxValue, "sbyte"),
            Value.KindOneofCase.ByteValue => (byte)InRange(value.ByteValue, byte.MinValue, byte.MaxValue, "byte"),
            Value.KindOneofCase.Int16Value => (short)InRange(value.Int16Value, short.MinValue, short.MaxValue, "short"),
            Value.KindOneofCase.Uint16Value => (ushort)InRange(value.Uint16Value, ushort.MinValue, ushort.MaxValue, "ushort"),
            Value.KindOneofCase.Int32Value => value.Int32Value,
            Value.KindOneofCase.Uint32Value => value.Uint32Value,
            Value.KindOneofCase.Int64Value => value.Int64Value,
            Value.KindOneofCase.Uint64Value => value.Uint64Value,
            Value.KindOneofCase.FloatValue => value.FloatValue,
            Value.KindOneofCase.DoubleValue => value.DoubleValue,
            Value.KindOneofCase.CharValue => (char)InRange(value.CharValue, char.MinValue, char.MaxValue, "char"),
            Value.KindOneofCase.StringValue => value.StringValue,
            Value.KindOneofCase.DecimalValue => DecodeDecimal(value.DecimalValue),
            Value.KindOneofCase.Array => DecodeArray(value.Array, blobs),
            Value.KindOneofCase.List => DecodeList(value.List, blobs, depth),
            Value.KindOneofCase.Map => DecodeMap(value.Map, blobs, depth),
            Value.KindOneofCase.Tuple => DecodeTuple(value.Tuple, blobs, depth),
            Value.KindOneofCase.Json => DecodeJson(value.Json),
            _ => throw ValueErrors.Malformed("a value has no kind set"),
        };
    }

    private static long InRange(long value, long min, long max, string type) =>
        value >= min && value <= max ? value : throw ValueErrors.Malformed($"{value} is out of range for {type}");

    private static decimal DecodeDecimal(DecimalBits bits)
    {
        try
        {
            return new decimal([bits.Lo, bits.Mid, bits.Hi, bits.Flags]);
        }
        catch (ArgumentException e)
        {
            throw ValueErrors.Malformed("invalid decimal bits", e);
        }
    }

    private static Array DecodeArray(NumericArray header, BlobTargets? blobs)
    {
        var (elementType, lengths) = ArrayLayout.Validate(header);
        if (header.DataCase == NumericArray.DataOneofCase.InlineData)
        {
            var data = header.InlineData.Span;
            if (data.Length != header.ByteLength)
            {
                throw ValueErrors.Malformed($"an array claims {header.ByteLength} bytes but carries {data.Length}");
            }

            var array = Array.CreateInstance(elementType, lengths);
            data.CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(array), data.Length));
            ArrayLayout.NormalizeBooleans(array);
            return array;
        }

        if (header.DataCase != NumericArray.DataOneofCase.Blobs)
        {
            throw ValueErrors.Malformed("an array has neither inline data nor blobs");
        }

        int index = header.Blobs.BlobIndex;
        if (blobs is null)
        {
            throw ValueErrors.Malformed($"the tree refers to blob {index} but no blob targets were given");
        }

        if (index < 0 || index >= blobs.Count || blobs.ArrayAt(index) is not { } target)
        {
            throw ValueErrors.Malformed($"the tree refers to blob {index}, which the blob targets do not hold");
        }

        if (target.GetType().GetElementType() != elementType || target.Rank != lengths.Length
            || Enumerable.Range(0, lengths.Length).Any(d => target.GetLength(d) != lengths[d]))
        {
            throw ValueErrors.Malformed($"blob {index} was allocated for a different array than the tree describes");
        }

        ArrayLayout.NormalizeBooleans(target);
        return target;
    }

    private static object DecodeList(ItemList list, BlobTargets? blobs, int depth)
    {
        var elementType = ScalarTypes.ClrType(list.ElementType);
        IList result = elementType is null
            ? new List<object?>(list.Items.Count)
            : (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(elementType), list.Items.Count)!;
        foreach (var item in list.Items)
        {
            object? decoded = Decode(item, blobs, depth + 1);
            result.Add(elementType is null ? decoded : Exact(decoded, elementType));
        }

        return result;
    }

    private static object DecodeMap(KeyValueMap map, BlobTargets? blobs, int depth)
    {
        if (map.Keys.Count != map.Values.Count)
        {
            throw ValueErrors.Malformed($"a map has {map.Keys.Count} keys but {map.Values.Count} values");
        }

        var keyType = ScalarTypes.ClrType(map.KeyType);
        var valueType = ScalarTypes.ClrType(map.ValueType);
        var dictionary = (IDictionary)Activator.CreateInstance(
            typeof(Dictionary<,>).MakeGenericType(keyType ?? typeof(object), valueType ?? typeof(object)), map.Keys.Count)!;
        for (int i = 0; i < map.Keys.Count; i++)
        {
            object? key = Decode(map.Keys[i], blobs, depth + 1) ?? throw ValueErrors.Malformed("a map has a null key");
            object? value = Decode(map.Values[i], blobs, depth + 1);
            if (keyType is not null)
            {
                key = Exact(key, keyType)!;
            }

            if (valueType is not null)
            {
                value = Exact(value, valueType);
            }

            if (dictionary.Contains(key))
            {
                throw ValueErrors.Malformed($"a map has the key {key} twice");
            }

            dictionary.Add(key, value);
        }

        return dictionary;
    }

    // A homogeneous list or map holds exactly its declared type; anything else is a bad tree.
    private static object? Exact(object? value, Type type)
    {
        if (value is null ? type == typeof(string) : value.GetType() == type)
        {
            return value;
        }

        throw ValueErrors.Malformed($"a collection of {ValueErrors.TypeName(type)} holds {(value is null ? "null" : ValueErrors.TypeName(value.GetType()))}");
    }

    private static object DecodeTuple(ItemTuple tuple, BlobTargets? blobs, int depth)
    {
        int arity = tuple.Items.Count;
        if (arity is < 1 or > 7)
        {
            throw ValueErrors.Malformed($"a tuple has {arity} items (1 to 7 allowed)");
        }

        var items = new object?[arity];
        var types = new Type[arity];
        for (int i = 0; i < arity; i++)
        {
            items[i] = Decode(tuple.Items[i], blobs, depth + 1);
            types[i] = items[i]?.GetType() ?? typeof(object);
        }

        var type = TupleTypes.Definition(arity, tuple.ReferenceTuple).MakeGenericType(types);
        return Activator.CreateInstance(type, items)!;
    }

    private static object DecodeJson(JsonObject json)
    {
        if (json.Utf8Json.Length > JsonValues.MaxBytes)
        {
            throw ValueErrors.Malformed($"a JSON value of {json.Utf8Json.Length:N0} bytes is over the limit of {JsonValues.MaxBytes:N0}; send large data as arrays");
        }

        // Only a type this program agreed to is rebuilt (see ValueTypes); any other stays JSON.
        var (type, fromResolver) = JsonValues.Resolve(json.TypeName);
        if (type is null || !(fromResolver || ValueTypes.IsAgreed(type)) || JsonValues.Refusal(type) is not null)
        {
            try
            {
                using var document = JsonDocument.Parse(json.Utf8Json.Memory, new JsonDocumentOptions { MaxDepth = JsonValues.MaxDepth });
                return document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw ValueErrors.Malformed($"the JSON of a {json.TypeName} is not valid JSON, or nested deeper than {JsonValues.MaxDepth}", e);
            }
        }

        try
        {
            return JsonSerializer.Deserialize(json.Utf8Json.Span, type, JsonValues.Options)
                ?? throw ValueErrors.Malformed($"the JSON of a {ValueErrors.TypeName(type)} is null");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw ValueErrors.Malformed($"the JSON does not fit {ValueErrors.TypeName(type)} as loaded here ({e.Message})", e);
        }
    }
}

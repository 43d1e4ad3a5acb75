using System.Collections;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace CapCluster.Protocol.Values.Internal;

/// <summary>
/// Converts a decoded value to a declared type: exact when it already is one, then
/// lossless numeric conversions, collections element by element, tuples item by item,
/// and records from JSON.
/// </summary>
internal static class ValueConverter
{
    public static object? Convert(object? value, Type target)
    {
        if (target == typeof(object) || (value is not null && target.IsInstanceOfType(value)))
        {
            return value;
        }

        if (Nullable.GetUnderlyingType(target) is { } underlying)
        {
            return value is null ? null : Convert(value, underlying);
        }

        if (value is null)
        {
            return target.IsValueType ? throw ValueErrors.Conversion(value, target, "null cannot be a value type") : null;
        }

        if (target.IsEnum)
        {
            return ToEnum(value, target);
        }

        if (IsNumeric(target) && IsNumeric(value.GetType()))
        {
            return ToNumber(value, target);
        }

        if (value is JsonElement element)
        {
            return FromJson(element, target);
        }

        if (target.IsArray)
        {
            return ToArray(value, target);
        }

        if (TupleTypes.IsTuple(target, out _) && value is ITuple tuple)
        {
            return ToTuple(tuple, target);
        }

        if (DictionaryTypes(target) is { } kv && value is IDictionary dictionary)
        {
            return ToDictionary(dictionary, target, kv.Key, kv.Value);
        }

        if (ListElementType(target) is { } elementType && value is IList list)
        {
            return ToList(list, target, elementType);
        }

        throw ValueErrors.Conversion(value, target);
    }

    private static bool IsNumeric(Type type) =>
        type == typeof(sbyte) || type == typeof(byte) || type == typeof(short) || type == typeof(ushort)
        || type == typeof(int) || type == typeof(uint) || type == typeof(long) || type == typeof(ulong)
        || type == typeof(float) || type == typeof(double) || type == typeof(decimal);

    private static bool IsInteger(Type type) => IsNumeric(type) && type != typeof(float) && type != typeof(double) && type != typeof(decimal);

    private static object ToNumber(object value, Type target)
    {
        if (IsInteger(target))
        {
            Int128 integer;
            switch (value)
            {
                case double d when double.IsInteger(d) && Math.Abs(d) < 1e38:
                    integer = (Int128)d;
                    break;
                case float f when float.IsInteger(f) && Math.Abs(f) < 1e38f:
                    integer = (Int128)f;
                    break;
                case decimal m when decimal.IsInteger(m):
                    integer = (Int128)m;
                    break;
                case double or float or decimal:
                    throw ValueErrors.Conversion(value, target, $"{value} is not a whole number");
                default:
                    integer = ToInt128(value);
                    break;
            }

            return FromInt128(integer, value, target);
        }

        try
        {
            return target == typeof(double) ? System.Convert.ToDouble(value, null)
                : target == typeof(float) ? System.Convert.ToSingle(value, null)
                : System.Convert.ToDecimal(value, null);
        }
        catch (OverflowException e)
        {
            throw ValueErrors.Conversion(value, target, $"{value} is out of range", e);
        }
    }

    private static Int128 ToInt128(object value) => value switch
    {
        sbyte v => v,
        byte v => v,
        short v => v,
        ushort v => v,
        int v => v,
        uint v => v,
        long v => v,
        ulong v => v,
        _ => throw new InvalidOperationException("not an integer"),
    };

    private static object FromInt128(Int128 v, object value, Type target)
    {
        object? result = target == typeof(sbyte) ? Narrow<sbyte>(v)
            : target == typeof(byte) ? Narrow<byte>(v)
            : target == typeof(short) ? Narrow<short>(v)
            : target == typeof(ushort) ? Narrow<ushort>(v)
            : target == typeof(int) ? Narrow<int>(v)
            : target == typeof(uint) ? Narrow<uint>(v)
            : target == typeof(long) ? Narrow<long>(v)
            : Narrow<ulong>(v);
        return result ?? throw ValueErrors.Conversion(value, target, $"{value} is out of range");
    }

    private static object? Narrow<T>(Int128 v)
        where T : struct, IBinaryInteger<T>, IMinMaxValue<T> =>
        v >= Int128.CreateTruncating(T.MinValue) && v <= Int128.CreateTruncating(T.MaxValue) ? T.CreateTruncating(v) : null;

    private static object ToEnum(object value, Type target)
    {
        if (value is string name && Enum.TryParse(target, name, ignoreCase: false, out object? parsed))
        {
            return parsed!;
        }

        if (IsInteger(value.GetType()))
        {
            return Enum.ToObject(target, Convert(value, Enum.GetUnderlyingType(target))!);
        }

        throw ValueErrors.Conversion(value, target);
    }

    private static object? FromJson(JsonElement element, Type target)
    {
        try
        {
            return element.Deserialize(target, JsonValues.Options);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw ValueErrors.Conversion(element, target, e.Message, e);
        }
    }

    private static Array ToArray(object value, Type target)
    {
        var elementType = target.GetElementType()!;
        int rank = target.GetArrayRank();
        if (value is Array source && source.Rank == rank && rank > 1)
        {
            var lengths = Enumerable.Range(0, rank).Select(source.GetLength).ToArray();
            var result = Array.CreateInstance(elementType, lengths);
            var indices = new int[rank];
            foreach (object? item in source)
            {
                result.SetValue(Element(item, elementType, value, target), indices);
                for (int d = rank - 1; d >= 0 && ++indices[d] == lengths[d]; d--)
                {
                    indices[d] = 0;
                }
            }

            return result;
        }

        if (rank == 1 && value is IList list && (value is not Array a || a.Rank == 1))
        {
            var result = Array.CreateInstance(elementType, list.Count);
            for (int i = 0; i < list.Count; i++)
            {
                result.SetValue(Element(list[i], elementType, value, target), i);
            }

            return result;
        }

        throw ValueErrors.Conversion(value, target, value is Array ? "the ranks differ" : null);
    }

    private static object? Element(object? item, Type elementType, object whole, Type target)
    {
        try
        {
            return Convert(item, elementType);
        }
        catch (ValueConversionException e)
        {
            throw ValueErrors.Conversion(whole, target, $"an element: {e.Message}", e);
        }
    }

    private static object ToTuple(ITuple tuple, Type target)
    {
        var types = target.GetGenericArguments();
        if (types.Length != tuple.Length)
        {
            throw ValueErrors.Conversion(tuple, target, $"it has {tuple.Length} items, not {types.Length}");
        }

        var items = new object?[types.Length];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = Element(tuple[i], types[i], tuple, target);
        }

        return Activator.CreateInstance(target, items)!;
    }

    private static KeyValuePair<Type, Type>? DictionaryTypes(Type target)
    {
        if (!target.IsGenericType)
        {
            return null;
        }

        var definition = target.GetGenericTypeDefinition();
        if (definition == typeof(Dictionary<,>) || definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>))
        {
            var arguments = target.GetGenericArguments();
            return new(arguments[0], arguments[1]);
        }

        return null;
    }

    private static object ToDictionary(IDictionary source, Type target, Type keyType, Type valueType)
    {
        var result = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(keyType, valueType), source.Count)!;
        var enumerator = source.GetEnumerator();
        while (enumerator.MoveNext())
        {
            object key = Element(enumerator.Key, keyType, source, target)
                ?? throw ValueErrors.Conversion(source, target, "a key converts to null");
            result.Add(key, Element(enumerator.Value, valueType, source, target));
        }

        return result;
    }

    private static Type? ListElementType(Type target)
    {
        if (!target.IsGenericType)
        {
            return null;
        }

        var definition = target.GetGenericTypeDefinition();
        return definition == typeof(List<>) || definition == typeof(IList<>) || definition == typeof(IReadOnlyList<>)
            || definition == typeof(ICollection<>) || definition == typeof(IReadOnlyCollection<>) || definition == typeof(IEnumerable<>)
            ? target.GetGenericArguments()[0]
            : null;
    }

    private static object ToList(IList source, Type target, Type elementType)
    {
        var result = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(elementType), source.Count)!;
        foreach (object? item in source)
        {
            result.Add(Element(item, elementType, source, target));
        }

        return result;
    }
}

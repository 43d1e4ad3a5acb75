namespace CapCluster.Protocol.Values.Internal;

/// <summary>The generic tuple definitions by arity (1 to 7).</summary>
internal static class TupleTypes
{
    private static readonly Type[] s_valueTuples =
    [
        typeof(ValueTuple<>), typeof(ValueTuple<,>), typeof(ValueTuple<,,>), typeof(ValueTuple<,,,>),
        typeof(ValueTuple<,,,,>), typeof(ValueTuple<,,,,,>), typeof(ValueTuple<,,,,,,>),
    ];

    private static readonly Type[] s_tuples =
    [
        typeof(Tuple<>), typeof(Tuple<,>), typeof(Tuple<,,>), typeof(Tuple<,,,>),
        typeof(Tuple<,,,,>), typeof(Tuple<,,,,,>), typeof(Tuple<,,,,,,>),
    ];

    public static Type Definition(int arity, bool referenceTuple) => (referenceTuple ? s_tuples : s_valueTuples)[arity - 1];

    /// <summary>True for ValueTuple and Tuple of 8 or more elements (nested through TRest).</summary>
    public static bool IsLongTuple(Type type) =>
        type.IsGenericType
        && (type.GetGenericTypeDefinition() == typeof(ValueTuple<,,,,,,,>) || type.GetGenericTypeDefinition() == typeof(Tuple<,,,,,,,>));

    /// <summary>True for ValueTuple and Tuple of 1 to 7 elements.</summary>
    public static bool IsTuple(Type type, out bool referenceTuple)
    {
        referenceTuple = false;
        if (!type.IsGenericType)
        {
            return false;
        }

        var definition = type.GetGenericTypeDefinition();
        if (Array.IndexOf(s_valueTuples, definition) >= 0)
        {
            return true;
        }

        referenceTuple = true;
        return Array.IndexOf(s_tuples, definition) >= 0;
    }
}

using System.Collections.Concurrent;

namespace CapCluster.Protocol.Values;

/// <summary>
/// The types a receiving program agrees to rebuild from a peer's JSON values. A JSON value naming any other type
/// decodes as a <see cref="System.Text.Json.JsonElement"/>, whatever the sender names and whatever is loaded here, so a
/// peer cannot make this process create an object of its choosing. Agreed: the types registered here; the types
/// <see cref="AgreedWhen"/> accepts (an engine accepts those its own compiled code declares); the types
/// <see cref="ValueCodec.TypeResolver"/> returns; enums; and the framework's plain data types (<see cref="Guid"/>,
/// dates and times, <see cref="Uri"/>, <see cref="Version"/>) and collections of agreed types.
/// A value received untyped can still become a type the receiver names: <c>PullAsync&lt;Point&gt;</c> and
/// <see cref="ValueCodec.DecodeAs{T}"/> convert its JSON to the type asked for.
/// </summary>
public static class ValueTypes
{
    private static readonly ConcurrentDictionary<Type, bool> Registered = new();

    private static readonly HashSet<Type> FrameworkData =
    [
        typeof(Guid), typeof(DateTime), typeof(DateTimeOffset), typeof(TimeSpan), typeof(DateOnly), typeof(TimeOnly),
        typeof(Uri), typeof(Version), typeof(string), typeof(decimal), typeof(Half), typeof(Int128), typeof(UInt128),
    ];

    private static readonly HashSet<Type> Collections =
    [
        typeof(List<>), typeof(HashSet<>), typeof(SortedSet<>), typeof(Dictionary<,>), typeof(SortedDictionary<,>),
        typeof(KeyValuePair<,>), typeof(Nullable<>), typeof(Queue<>), typeof(Stack<>), typeof(LinkedList<>),
    ];

    /// <summary>
    /// More agreed types, decided per type (for example every type declared in a load context of this program's own).
    /// Null by default.
    /// </summary>
    public static Func<Type, bool>? AgreedWhen { get; set; }

    /// <summary>Agrees to rebuild <typeparamref name="T"/> from peers' JSON values (a record or plain class of this program's).</summary>
    public static void Register<T>() => Register(typeof(T));

    /// <summary>Agrees to rebuild <paramref name="type"/> from peers' JSON values.</summary>
    /// <exception cref="ArgumentException"><paramref name="type"/> has no JSON form (a delegate, a handle, reflection metadata, ...).</exception>
    public static void Register(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (Internal.JsonValues.Refusal(type) is { } reason)
        {
            throw new ArgumentException($"{Internal.ValueErrors.TypeName(type)} cannot travel as a value: {reason}", nameof(type));
        }

        Registered[type] = true;
    }

    /// <summary>Whether JSON naming <paramref name="type"/> is rebuilt as it (else it decodes as a JsonElement).</summary>
    public static bool IsAgreed(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (type.IsArray)
        {
            return type.GetElementType() is { } element && IsAgreed(element);
        }

        if (type.IsGenericType && !type.IsGenericTypeDefinition && Collections.Contains(type.GetGenericTypeDefinition()))
        {
            return type.GetGenericArguments().All(IsAgreed);
        }

        return type.IsPrimitive || type.IsEnum || FrameworkData.Contains(type) || Registered.ContainsKey(type)
            || (AgreedWhen?.Invoke(type) ?? false);
    }
}

namespace CapCluster.Protocol.Values.Internal;

/// <summary>Every message the value codec throws, built in one place.</summary>
internal static class ValueErrors
{
    public static UnsendableValueException Unsendable(string name, string path, Type type, string reason, Exception? inner = null)
    {
        string where = path.Length == 0 ? string.Empty : $" (at {path})";
        string message = $"{name}: {TypeName(type)}{where} cannot be sent: {reason}";
        return new UnsendableValueException(message, name, type, reason, inner);
    }

    public static ValueConversionException Conversion(object? value, Type target, string? detail = null, Exception? inner = null)
    {
        string source = value is null ? "null" : TypeName(value.GetType());
        string message = $"Cannot convert a value of type {source} to {TypeName(target)}"
            + (detail is null ? "." : $": {detail}");
        return new ValueConversionException(message, value?.GetType(), target, inner);
    }

    public static MalformedValueException Malformed(string detail, Exception? inner = null) =>
        new($"Malformed value: {detail}", inner);

    /// <summary>A readable type name: <c>System.Collections.Generic.List&lt;System.Int32&gt;</c>.</summary>
    public static string TypeName(Type type)
    {
        if (type.IsArray)
        {
            return TypeName(type.GetElementType()!) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        }

        if (!type.IsGenericType)
        {
            return type.FullName ?? type.Name;
        }

        string name = type.GetGenericTypeDefinition().FullName ?? type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0)
        {
            name = name[..tick];
        }

        return name + "<" + string.Join(", ", type.GetGenericArguments().Select(TypeName)) + ">";
    }
}

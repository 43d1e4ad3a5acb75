namespace CapCluster.Protocol.Values;

/// <summary>
/// A value cannot be sent to or from an engine: it is not data (a socket, a stream, a
/// delegate, a task...), or it has no JSON form. The message names the value, the type
/// and the reason.
/// </summary>
public sealed class UnsendableValueException : Exception
{
    /// <summary>Creates the exception; <see cref="ValueCodec"/> builds the message.</summary>
    public UnsendableValueException(string message, string valueName, Type? valueType, string reason, Exception? innerException = null)
        : base(message, innerException)
    {
        ValueName = valueName;
        ValueType = valueType;
        Reason = reason;
    }

    /// <summary>The name the caller gave the value, e.g. <c>push 'sock'</c>.</summary>
    public string ValueName { get; }

    /// <summary>The type of the part that cannot be sent (possibly nested inside the value).</summary>
    public Type? ValueType { get; }

    /// <summary>Why the type cannot be sent.</summary>
    public string Reason { get; }
}

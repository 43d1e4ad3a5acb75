namespace CapCluster.Protocol.Values;

/// <summary>
/// A decoded value cannot be converted to the requested type (for example a string to
/// <see cref="int"/>, or a <see cref="long"/> outside the range of <see cref="int"/>).
/// </summary>
public sealed class ValueConversionException : InvalidCastException
{
    /// <summary>Creates the exception; <see cref="ValueCodec"/> builds the message.</summary>
    public ValueConversionException(string message, Type? sourceType, Type targetType, Exception? innerException = null)
        : base(message, innerException)
    {
        SourceType = sourceType;
        TargetType = targetType;
    }

    /// <summary>The type of the decoded value (null when the value was null).</summary>
    public Type? SourceType { get; }

    /// <summary>The type asked for.</summary>
    public Type TargetType { get; }
}

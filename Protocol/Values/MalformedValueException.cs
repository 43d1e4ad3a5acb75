namespace CapCluster.Protocol.Values;

/// <summary>
/// A received value tree is not well formed (a bad shape, a length that does not match,
/// a missing blob, an out-of-range scalar). Nothing is decoded from it.
/// </summary>
public sealed class MalformedValueException : FormatException
{
    /// <summary>Creates the exception with a message saying what is wrong.</summary>
    public MalformedValueException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

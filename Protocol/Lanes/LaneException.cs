namespace CapCluster.Protocol.Lanes;

/// <summary>A data lane could not be set up, or broke; the message says where and why.</summary>
public sealed class LaneException : IOException
{
    /// <summary>A lane failure with a message that says what happened.</summary>
    public LaneException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

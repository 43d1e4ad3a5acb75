namespace CapCluster;

/// <summary>
/// The root of every error CapCluster raises on purpose. Catch this to handle any CapCluster failure;
/// the message is written for the person running the cluster.
/// </summary>
public class CapClusterException : Exception
{
    /// <summary>Creates the exception with a human-readable message and an optional cause.</summary>
    /// <param name="message">What went wrong and, where possible, what to do about it.</param>
    /// <param name="inner">The underlying cause, or <c>null</c> (the default).</param>
    public CapClusterException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

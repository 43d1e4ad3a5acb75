using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// A <c>.cap</c> file could not be used: it is missing, malformed, or has been tampered with.
/// The message is "<c>&lt;path&gt;: &lt;problem&gt;</c>" followed by a hint on what to do.
/// </summary>
public sealed class CapabilityFileException : CapClusterException
{
    /// <summary>Creates the exception for <paramref name="filePath"/> with a one-line <paramref name="problem"/>.</summary>
    /// <param name="filePath">The file (or source name) that was being read.</param>
    /// <param name="problem">What is wrong with it, without secrets.</param>
    /// <param name="inner">The underlying cause, or <c>null</c> (the default).</param>
    public CapabilityFileException(string filePath, string problem, Exception? inner = null)
        : base(SecurityErrors.CapabilityFileMessage(filePath, problem), inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The path (or source name) of the capability file.</summary>
    public string FilePath { get; }

    /// <summary>The problem found, without the path and hint.</summary>
    public string Problem { get; }
}

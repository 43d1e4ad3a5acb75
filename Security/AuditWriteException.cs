namespace CapCluster.Security;

/// <summary>
/// A record could not be written (disk full, folder read-only). Nothing of it is left in the log; the caller fails
/// the call it was auditing, since a call that cannot be recorded does not happen.
/// </summary>
public sealed class AuditWriteException : CapClusterException
{
    /// <summary>Creates the error for the log at <paramref name="path"/>.</summary>
    public AuditWriteException(string path, string detail, Exception? inner = null)
        : base($"audit log not writable: {path} ({detail})", inner)
    {
        LogPath = path;
    }

    /// <summary>The log that could not be written.</summary>
    public string LogPath { get; }
}

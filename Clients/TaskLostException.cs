using CapCluster.Security;

namespace CapCluster.Client;

/// <summary>
/// A task this client submitted is gone: the controller restarted without it (it keeps no journal of queued tasks
/// and results), or the connection was lost before the controller acknowledged it. Submit it again.
/// </summary>
public sealed class TaskLostException(long taskId, string message, Exception? inner = null) : CapClusterException(message, inner)
{
    /// <summary>The task's id, or 0 when the controller never gave it one.</summary>
    public long TaskId { get; } = taskId;
}

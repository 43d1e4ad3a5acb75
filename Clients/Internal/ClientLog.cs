using Microsoft.Extensions.Logging;

namespace CapCluster.Client.Internal;

/// <summary>
/// What a client does about its streams: the task stream and the MultiEngine session lost and reopened, tasks lost.
/// Events name the capability by id (never its secret). Logged to <see cref="ReconnectOptions.LoggerFactory"/>, nowhere
/// by default; the connection logs the controller out of reach and reached again (<c>CapCluster.Connection</c>).
/// </summary>
internal static partial class ClientLog
{
    public const string Category = "CapCluster.Client";

    [LoggerMessage(104, LogLevel.Warning, "The task stream of capability {CapabilityId} was lost: {Reason}; opening it again in {Delay}")]
    public static partial void TaskStreamLost(ILogger logger, string capabilityId, string reason, TimeSpan delay);

    [LoggerMessage(105, LogLevel.Information, "The task stream of capability {CapabilityId} is open again; asking for {Awaited} awaited result(s)")]
    public static partial void TaskStreamReopened(ILogger logger, string capabilityId, int awaited);

    [LoggerMessage(106, LogLevel.Error, "The task stream of capability {CapabilityId} ended: {Reason}; {Failed} wait(s) fail")]
    public static partial void TaskStreamEnded(ILogger logger, string capabilityId, string reason, int failed);

    [LoggerMessage(107, LogLevel.Warning, "The MultiEngine session of capability {CapabilityId} was lost: {Reason}; {Pending} call(s) in flight fail")]
    public static partial void SessionLost(ILogger logger, string capabilityId, string reason, int pending);

    [LoggerMessage(108, LogLevel.Warning, "Task {TaskId} was lost: {Reason}")]
    public static partial void TaskLost(ILogger logger, long taskId, string reason);
}

using Microsoft.Extensions.Logging;

namespace CapCluster.Client.Internal;

/// <summary>
/// What a client does about its connection: a controller out of reach, attempts to reach it again, giving up, streams
/// lost and reopened. Events name the capability by id (never its secret). Logged to
/// <see cref="ReconnectOptions.LoggerFactory"/>, nowhere by default.
/// </summary>
internal static partial class ClientLog
{
    public const string Category = "CapCluster.Client";

    [LoggerMessage(100, LogLevel.Warning, "The controller at {Controller} is out of reach for capability {CapabilityId}: {Reason}; trying again for up to {Timeout}")]
    public static partial void Unreachable(ILogger logger, string controller, string capabilityId, string reason, TimeSpan timeout);

    [LoggerMessage(101, LogLevel.Debug, "Trying the controller again in {Delay} ({Waited} since the first failure)")]
    public static partial void Retrying(ILogger logger, TimeSpan delay, TimeSpan waited);

    [LoggerMessage(102, LogLevel.Information, "Reached the controller at {Controller} again for capability {CapabilityId} after {Waited}")]
    public static partial void Reconnected(ILogger logger, string controller, string capabilityId, TimeSpan waited);

    [LoggerMessage(103, LogLevel.Error, "Gave up reaching the controller at {Controller} for capability {CapabilityId} after {Waited}: {Reason}")]
    public static partial void GaveUp(ILogger logger, string controller, string capabilityId, TimeSpan waited, string reason);

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

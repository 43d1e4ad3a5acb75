using Microsoft.Extensions.Logging;

namespace CapCluster.Connection.Internal;

/// <summary>
/// What a connection does while its controller is out of reach: the first failure, attempts to reach it again, reaching
/// it or giving up. Events name the capability by id (never its secret). Logged to
/// <see cref="ReconnectOptions.LoggerFactory"/>, nowhere by default.
/// </summary>
internal static partial class ConnectionLog
{
    public const string Category = "CapCluster.Connection";

    [LoggerMessage(100, LogLevel.Warning, "The controller at {Controller} is out of reach for capability {CapabilityId}: {Reason}; trying again for up to {Timeout}")]
    public static partial void Unreachable(ILogger logger, string controller, string capabilityId, string reason, TimeSpan timeout);

    [LoggerMessage(101, LogLevel.Debug, "Trying the controller again in {Delay} ({Waited} since the first failure)")]
    public static partial void Retrying(ILogger logger, TimeSpan delay, TimeSpan waited);

    [LoggerMessage(102, LogLevel.Information, "Reached the controller at {Controller} again for capability {CapabilityId} after {Waited}")]
    public static partial void Reconnected(ILogger logger, string controller, string capabilityId, TimeSpan waited);

    [LoggerMessage(103, LogLevel.Error, "Gave up reaching the controller at {Controller} for capability {CapabilityId} after {Waited}: {Reason}")]
    public static partial void GaveUp(ILogger logger, string controller, string capabilityId, TimeSpan waited, string reason);
}

using Microsoft.Extensions.Logging;

namespace CapCluster.Engine.Internal;

internal static partial class EngineLog
{
    [LoggerMessage(1, LogLevel.Information, "Connecting to the controller at {Locations} with capability {CapabilityId}")]
    public static partial void Connecting(ILogger logger, string locations, string capabilityId);

    [LoggerMessage(2, LogLevel.Information, "Registered as engine {EngineId}")]
    public static partial void Registered(ILogger logger, int engineId);

    [LoggerMessage(3, LogLevel.Warning, "Lost the controller ({Reason}); reconnecting in {Delay}")]
    public static partial void Disconnected(ILogger logger, string reason, TimeSpan delay);

    [LoggerMessage(4, LogLevel.Error, "The controller refused this engine's capability: {Reason}")]
    public static partial void Refused(ILogger logger, string reason);

    [LoggerMessage(5, LogLevel.Information, "Stopping: {Reason}")]
    public static partial void Stopping(ILogger logger, string reason);

    [LoggerMessage(6, LogLevel.Information, "Joined data lane {Lane}")]
    public static partial void LaneJoined(ILogger logger, string lane);

    [LoggerMessage(7, LogLevel.Warning, "Data lane {Lane} failed: {Reason}")]
    public static partial void LaneFailed(ILogger logger, string lane, string reason);

    [LoggerMessage(23, LogLevel.Information, "Data lane {Lane} closed: {Reason}")]
    public static partial void LaneClosed(ILogger logger, string lane, string reason);

    [LoggerMessage(8, LogLevel.Error, "Giving up on the controller at {Locations}: no answer for {Elapsed} (controller timeout {Timeout}); last error: {Reason}. Exiting")]
    public static partial void GaveUp(ILogger logger, string locations, TimeSpan elapsed, TimeSpan timeout, string reason);

    [LoggerMessage(24, LogLevel.Warning, "The compiler's warm-up failed ({Reason}); the first execute compiles cold")]
    public static partial void WarmUpFailed(ILogger logger, string reason);
}

using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// What the task farm does to a task besides running it: retries, timeouts, lost engines, failures after retries,
/// evictions. Every event names the task and its owner (the submitting capability's id, never its secret); a remote
/// error is named by its type only, so a task's data stays out of the controller's log.
/// </summary>
internal static partial class TaskFarmLog
{
    [LoggerMessage(60, LogLevel.Warning, "Task {TaskId} of {Owner} failed on engine {EngineId} (attempt {Attempt}): {Reason}; retrying (retry {Retry} of {Retries})")]
    public static partial void Retrying(ILogger logger, long taskId, string owner, int? engineId, int attempt, string reason, int retry, int retries);

    [LoggerMessage(61, LogLevel.Warning, "Task {TaskId} of {Owner} failed on engine {EngineId} (attempt {Attempt}) with no retries left: {Reason}; running its recovery task")]
    public static partial void Recovering(ILogger logger, long taskId, string owner, int? engineId, int attempt, string reason);

    [LoggerMessage(EventId = 62, Message = "Task {TaskId} of {Owner} failed on engine {EngineId} after {Attempts} attempt(s): {Reason}")]
    public static partial void Failed(ILogger logger, LogLevel level, long taskId, string owner, int? engineId, int attempts, string reason);

    [LoggerMessage(63, LogLevel.Warning, "Task {TaskId} of {Owner} timed out on engine {EngineId} after {TimeoutSeconds} s (attempt {Attempt})")]
    public static partial void TimedOut(ILogger logger, long taskId, string owner, int? engineId, double timeoutSeconds, int attempt);

    [LoggerMessage(64, LogLevel.Warning, "Engine {EngineId} did not answer a batch of {Count} task(s) ({TaskIds}): {Reason}; they are retried or fail")]
    public static partial void BatchLost(ILogger logger, int engineId, int count, string taskIds, string reason);

    [LoggerMessage(65, LogLevel.Information, "More than {MaxFinishedResults} finished results: the oldest are evicted from now on, the first the result of task {TaskId} of {Owner}")]
    public static partial void EvictionStarted(ILogger logger, int maxFinishedResults, long taskId, string owner);

    [LoggerMessage(66, LogLevel.Debug, "Evicted the result of task {TaskId} of {Owner}")]
    public static partial void Evicted(ILogger logger, long taskId, string owner);

    [LoggerMessage(67, LogLevel.Information, "Task {TaskId} of {Owner} is not run: {Reason}")]
    public static partial void NotRun(ILogger logger, long taskId, string owner, string reason);
}

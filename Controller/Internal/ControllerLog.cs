using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal;

internal static partial class ControllerLog
{
    [LoggerMessage(1, LogLevel.Information, "Controller listening: engines on {EngineEndPoint}, clients on {ClientEndPoint}")]
    public static partial void Listening(ILogger logger, string engineEndPoint, string clientEndPoint);

    [LoggerMessage(2, LogLevel.Information, "Capability {CapabilityId} ({Interface}) written to {Path}")]
    public static partial void CapabilityWritten(ILogger logger, string capabilityId, string @interface, string path);

    [LoggerMessage(3, LogLevel.Information, "Engine {EngineId} registered from {Peer} (host {Host}, pid {EnginePid})")]
    public static partial void EngineRegistered(ILogger logger, int engineId, string peer, string host, int enginePid);

    [LoggerMessage(4, LogLevel.Information, "Engine {EngineId} unregistered: {Reason}")]
    public static partial void EngineUnregistered(ILogger logger, int engineId, string reason);

    [LoggerMessage(5, LogLevel.Warning, "Refused {Service}/{Method} from {Peer} (capability {CapabilityId}): {Reason}")]
    public static partial void CallRefused(ILogger logger, string service, string method, string peer, string? capabilityId, string reason);

    [LoggerMessage(6, LogLevel.Information, "Accepted connection from {Peer} with capability {CapabilityId} ({Label})")]
    public static partial void ConnectionAccepted(ILogger logger, string peer, string capabilityId, string? label);

    [LoggerMessage(7, LogLevel.Warning, "Engine {EngineId} missed heartbeats for {Silence}; unregistering it")]
    public static partial void HeartbeatsMissed(ILogger logger, int engineId, TimeSpan silence);

    [LoggerMessage(8, LogLevel.Information, "Stop requested by {Peer}")]
    public static partial void StopRequested(ILogger logger, string peer);

    [LoggerMessage(9, LogLevel.Warning, "Engine stream from {Peer} ended with an error")]
    public static partial void EngineStreamFailed(ILogger logger, Exception exception, string peer);

    [LoggerMessage(10, LogLevel.Information, "Capability file {Path} rewritten for the current locations")]
    public static partial void CapabilityRelocated(ILogger logger, string path);

    [LoggerMessage(11, LogLevel.Warning, "Closed the connection from {Peer} of capability {CapabilityId}: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, string peer, string capabilityId, string reason);

    [LoggerMessage(12, LogLevel.Error, "The capability registry could not be re-read; keeping its previous state")]
    public static partial void RegistryReloadFailed(ILogger logger, Exception exception);

    [LoggerMessage(13, LogLevel.Information, "Capability registry changed on disk: re-read it")]
    public static partial void RegistryReloaded(ILogger logger);

    [LoggerMessage(14, LogLevel.Information, "Data port listening on {EndPoint}; local socket for engines on this host: {LocalSocket}")]
    public static partial void DataPortListening(ILogger logger, string endPoint, string localSocket);

    [LoggerMessage(15, LogLevel.Information, "Data lane {Lane} {How}: capability {CapabilityId} to engine {EngineId}")]
    public static partial void LaneJoined(ILogger logger, string lane, string how, string capabilityId, int engineId);

    [LoggerMessage(16, LogLevel.Information, "Data lane {Lane} to engine {EngineId} closed")]
    public static partial void LaneClosed(ILogger logger, string lane, int engineId);

    [LoggerMessage(17, LogLevel.Warning, "Refused a data lane end from {Peer}: {Reason}")]
    public static partial void LaneRefused(ILogger logger, string peer, string reason);

    [LoggerMessage(18, LogLevel.Debug, "Stream lane {Lane} for {Method} opened from {Peer}")]
    public static partial void StreamLaneOpened(ILogger logger, string lane, string method, string peer);

    [LoggerMessage(19, LogLevel.Error, "Stream lane {Lane} for {Method} failed")]
    public static partial void StreamLaneFailed(ILogger logger, Exception exception, string lane, string method);

    [LoggerMessage(40, LogLevel.Error, "Audit record not written: {Detail}")]
    public static partial void AuditWriteFailed(ILogger logger, string detail);

    [LoggerMessage(41, LogLevel.Error, "{Detail}")]
    public static partial void JournalWriteFailed(ILogger logger, string detail);

    [LoggerMessage(44, LogLevel.Warning, "Task {TaskId}: {Failure}; the other journaled tasks are restored")]
    public static partial void JournalRecordLost(ILogger logger, long taskId, string failure);

    [LoggerMessage(42, LogLevel.Information, "The task journal in {Folder} is written again")]
    public static partial void JournalWritable(ILogger logger, string folder);

    [LoggerMessage(43, LogLevel.Information, "Resumed from the task journal: {Queued} task(s) to run, {Finished} result(s) held")]
    public static partial void JournalResumed(ILogger logger, int queued, int finished);

    [LoggerMessage(45, LogLevel.Warning, "A task journal of an earlier run is at {Path}: this run (--no-journal) neither resumes its tasks nor changes it, so clients are told those tasks were lost, and a later start with the journal runs them again. Delete it to drop them for good")]
    public static partial void JournalLeftAlone(ILogger logger, string path);

    [LoggerMessage(46, LogLevel.Information, "The task journal {Path} keeps its size after a clear ({SizeMiB:0.#} MiB): {LeftMiB:0.#} MiB of tasks are still in it, and it is rewritten to give space back only when that is under half the file and at most {MaxMiB:0.#} MiB")]
    public static partial void JournalKeptItsSize(ILogger logger, string path, double sizeMiB, double leftMiB, double maxMiB);

    [LoggerMessage(47, LogLevel.Warning, "The task journal {Path} could not give the space of cleared tasks back to the file system ({Reason}); it works as before, and only keeps its size")]
    public static partial void JournalNotVacuumed(ILogger logger, string path, string reason);

    [LoggerMessage(48, LogLevel.Information, "The task journal gave {FreedMiB:0.#} MiB back to the file system after a clear ({Path}: {SizeMiB:0.#} MiB with its write-ahead log)")]
    public static partial void JournalGaveBack(ILogger logger, string path, double freedMiB, double sizeMiB);
}

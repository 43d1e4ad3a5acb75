using CapCluster.Protocol.V1;

namespace CapCluster.Protocol;

/// <summary>
/// The gRPC methods CapCluster serves, one descriptor each, shared by the controller
/// (which maps them) and the clients and engines (which call them).
/// </summary>
public static class CapClusterMethods
{
    /// <summary>Service name of the engines' interface.</summary>
    public const string EngineLinkService = "capcluster.v1.EngineLink";

    /// <summary>Service name of the explicit-engine interface.</summary>
    public const string MultiEngineService = "capcluster.v1.MultiEngine";

    /// <summary>Service name of the load-balanced task interface.</summary>
    public const string TaskFarmService = "capcluster.v1.TaskFarm";

    /// <summary>An engine's long-lived registration, heartbeat and work stream.</summary>
    public static readonly Method<EngineMessage, ControllerMessage> EngineConnect =
        new(MethodType.DuplexStreaming, EngineLinkService, "Connect");

    /// <summary>Grants a stream lane that carries an engine's <see cref="EngineConnect"/> stream off HTTP/2.</summary>
    public static readonly Method<OpenStreamRequest, OpenStreamReply> EngineOpenStream =
        new(MethodType.Unary, EngineLinkService, "OpenStream");

    /// <summary>The ids of the registered engines.</summary>
    public static readonly Method<GetIdsRequest, GetIdsReply> GetIds =
        new(MethodType.Unary, MultiEngineService, "GetIds");

    /// <summary>Every registered engine with its host, pid, state and heartbeat.</summary>
    public static readonly Method<ListEnginesRequest, ListEnginesReply> ListEngines =
        new(MethodType.Unary, MultiEngineService, "ListEngines");

    /// <summary>A ping through each target engine's queue.</summary>
    public static readonly Method<PingRequest, PingReply> Ping =
        new(MethodType.Unary, MultiEngineService, "Ping");

    /// <summary>Stops engines and, optionally, the controller.</summary>
    public static readonly Method<KillRequest, KillReply> Kill =
        new(MethodType.Unary, MultiEngineService, "Kill");

    /// <summary>A client's long-lived call stream (execute, push, pull, apply, ... on target engines).</summary>
    public static readonly Method<SessionMessage, SessionMessage> Session =
        new(MethodType.DuplexStreaming, MultiEngineService, "Session");

    /// <summary>Queued, running and completed counts of each target engine's queue.</summary>
    public static readonly Method<EngineQueuesRequest, EngineQueuesReply> EngineQueues =
        new(MethodType.Unary, MultiEngineService, "EngineQueues");

    /// <summary>Drops what waits in the target engines' queues.</summary>
    public static readonly Method<ClearQueueRequest, ClearQueueReply> ClearQueue =
        new(MethodType.Unary, MultiEngineService, "ClearQueue");

    /// <summary>Grants a data lane to one engine, for bulk values end to end.</summary>
    public static readonly Method<OpenLaneRequest, OpenLaneReply> OpenLane =
        new(MethodType.Unary, MultiEngineService, "OpenLane");

    /// <summary>Counts of queued, running and finished tasks.</summary>
    public static readonly Method<QueueStatusRequest, QueueStatusReply> QueueStatus =
        new(MethodType.Unary, TaskFarmService, "QueueStatus");

    /// <summary>A client's task stream: batched submissions in, their ids and then their results out.</summary>
    public static readonly Method<TaskClientMessage, TaskServerMessage> Tasks =
        new(MethodType.DuplexStreaming, TaskFarmService, "Tasks");

    /// <summary>Grants a stream lane that carries a client's <see cref="Tasks"/> stream off HTTP/2.</summary>
    public static readonly Method<OpenStreamRequest, OpenStreamReply> TasksOpenStream =
        new(MethodType.Unary, TaskFarmService, "OpenStream");

    /// <summary>Task results by id, from any task client of this controller.</summary>
    public static readonly Method<GetResultsRequest, GetResultsReply> GetResults =
        new(MethodType.Unary, TaskFarmService, "GetResults");

    /// <summary>Aborts tasks.</summary>
    public static readonly Method<AbortRequest, AbortReply> Abort =
        new(MethodType.Unary, TaskFarmService, "Abort");

    /// <summary>Forgets finished results.</summary>
    public static readonly Method<ClearRequest, ClearReply> ClearResults =
        new(MethodType.Unary, TaskFarmService, "Clear");

    /// <summary>Whether the controller still accepts the caller's engine capability.</summary>
    public static readonly Method<CheckRequest, CheckReply> EngineCheck =
        new(MethodType.Unary, EngineLinkService, "Check");

    /// <summary>Whether the controller still accepts the caller's multiengine capability.</summary>
    public static readonly Method<CheckRequest, CheckReply> MultiEngineCheck =
        new(MethodType.Unary, MultiEngineService, "Check");

    /// <summary>Whether the controller still accepts the caller's task capability.</summary>
    public static readonly Method<CheckRequest, CheckReply> TaskFarmCheck =
        new(MethodType.Unary, TaskFarmService, "Check");

    /// <summary>The <c>Check</c> method of the service that <paramref name="serviceName"/> names.</summary>
    /// <exception cref="ArgumentException">Not one of the three services.</exception>
    public static Method<CheckRequest, CheckReply> CheckFor(string serviceName) => serviceName switch
    {
        EngineLinkService => EngineCheck,
        MultiEngineService => MultiEngineCheck,
        TaskFarmService => TaskFarmCheck,
        _ => throw new ArgumentException($"unknown service {serviceName}", nameof(serviceName)),
    };
}

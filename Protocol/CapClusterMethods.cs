using CapCluster.Protocol.V1;
using Grpc.Core;

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
        ProtoMethods.Create<EngineMessage, ControllerMessage>(MethodType.DuplexStreaming, EngineLinkService, "Connect");

    /// <summary>Grants a stream lane that carries an engine's <see cref="EngineConnect"/> stream off HTTP/2.</summary>
    public static readonly Method<OpenStreamRequest, OpenStreamReply> EngineOpenStream =
        ProtoMethods.Create<OpenStreamRequest, OpenStreamReply>(MethodType.Unary, EngineLinkService, "OpenStream");

    /// <summary>An engine's link, on HTTP/2 or on a stream lane.</summary>
    public static readonly StreamMethod<EngineMessage, ControllerMessage> EngineLink = new(EngineConnect, EngineOpenStream);

    /// <summary>The ids of the registered engines.</summary>
    public static readonly Method<GetIdsRequest, GetIdsReply> GetIds =
        ProtoMethods.Create<GetIdsRequest, GetIdsReply>(MethodType.Unary, MultiEngineService, "GetIds");

    /// <summary>Every registered engine with its host, pid, state and heartbeat.</summary>
    public static readonly Method<ListEnginesRequest, ListEnginesReply> ListEngines =
        ProtoMethods.Create<ListEnginesRequest, ListEnginesReply>(MethodType.Unary, MultiEngineService, "ListEngines");

    /// <summary>A ping through each target engine's queue.</summary>
    public static readonly Method<PingRequest, PingReply> Ping =
        ProtoMethods.Create<PingRequest, PingReply>(MethodType.Unary, MultiEngineService, "Ping");

    /// <summary>Stops engines and, optionally, the controller.</summary>
    public static readonly Method<KillRequest, KillReply> Kill =
        ProtoMethods.Create<KillRequest, KillReply>(MethodType.Unary, MultiEngineService, "Kill");

    /// <summary>A client's long-lived call stream (execute, push, pull, apply, ... on target engines).</summary>
    public static readonly Method<SessionMessage, SessionMessage> Session =
        ProtoMethods.Create<SessionMessage, SessionMessage>(MethodType.DuplexStreaming, MultiEngineService, "Session");

    /// <summary>Queued, running and completed counts of each target engine's queue.</summary>
    public static readonly Method<EngineQueuesRequest, EngineQueuesReply> EngineQueues =
        ProtoMethods.Create<EngineQueuesRequest, EngineQueuesReply>(MethodType.Unary, MultiEngineService, "EngineQueues");

    /// <summary>Drops what waits in the target engines' queues.</summary>
    public static readonly Method<ClearQueueRequest, ClearQueueReply> ClearQueue =
        ProtoMethods.Create<ClearQueueRequest, ClearQueueReply>(MethodType.Unary, MultiEngineService, "ClearQueue");

    /// <summary>Grants a data lane to one engine, for bulk values end to end.</summary>
    public static readonly Method<OpenLaneRequest, OpenLaneReply> OpenLane =
        ProtoMethods.Create<OpenLaneRequest, OpenLaneReply>(MethodType.Unary, MultiEngineService, "OpenLane");

    /// <summary>Counts of queued, running and finished tasks.</summary>
    public static readonly Method<QueueStatusRequest, QueueStatusReply> QueueStatus =
        ProtoMethods.Create<QueueStatusRequest, QueueStatusReply>(MethodType.Unary, TaskFarmService, "QueueStatus");

    /// <summary>A client's task stream: batched submissions in, their ids and then their results out.</summary>
    public static readonly Method<TaskClientMessage, TaskServerMessage> Tasks =
        ProtoMethods.Create<TaskClientMessage, TaskServerMessage>(MethodType.DuplexStreaming, TaskFarmService, "Tasks");

    /// <summary>Grants a stream lane that carries a client's <see cref="Tasks"/> stream off HTTP/2.</summary>
    public static readonly Method<OpenStreamRequest, OpenStreamReply> TasksOpenStream =
        ProtoMethods.Create<OpenStreamRequest, OpenStreamReply>(MethodType.Unary, TaskFarmService, "OpenStream");

    /// <summary>A client's task stream, on HTTP/2 or on a stream lane.</summary>
    public static readonly StreamMethod<TaskClientMessage, TaskServerMessage> TaskStream = new(Tasks, TasksOpenStream);

    /// <summary>Task results by id, from any task client of this controller.</summary>
    public static readonly Method<GetResultsRequest, GetResultsReply> GetResults =
        ProtoMethods.Create<GetResultsRequest, GetResultsReply>(MethodType.Unary, TaskFarmService, "GetResults");

    /// <summary>Aborts tasks.</summary>
    public static readonly Method<AbortRequest, AbortReply> Abort =
        ProtoMethods.Create<AbortRequest, AbortReply>(MethodType.Unary, TaskFarmService, "Abort");

    /// <summary>Forgets finished results.</summary>
    public static readonly Method<ClearRequest, ClearReply> ClearResults =
        ProtoMethods.Create<ClearRequest, ClearReply>(MethodType.Unary, TaskFarmService, "Clear");

    /// <summary>Whether the controller still accepts the caller's engine capability.</summary>
    public static readonly Method<CheckRequest, CheckReply> EngineCheck =
        ProtoMethods.Create<CheckRequest, CheckReply>(MethodType.Unary, EngineLinkService, "Check");

    /// <summary>Whether the controller still accepts the caller's multiengine capability.</summary>
    public static readonly Method<CheckRequest, CheckReply> MultiEngineCheck =
        ProtoMethods.Create<CheckRequest, CheckReply>(MethodType.Unary, MultiEngineService, "Check");

    /// <summary>Whether the controller still accepts the caller's task capability.</summary>
    public static readonly Method<CheckRequest, CheckReply> TaskFarmCheck =
        ProtoMethods.Create<CheckRequest, CheckReply>(MethodType.Unary, TaskFarmService, "Check");

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

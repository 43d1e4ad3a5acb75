using CapCluster.Protocol.Internal;
using CapCluster.Protocol.V1;
using Grpc.Core;

namespace CapCluster.Protocol;

/// <summary>
/// The gRPC methods CapCluster serves, one descriptor each as protoc generated it from the .proto files, shared by the
/// controller (whose services implement the generated bases) and the clients and engines (which call them).
/// </summary>
public static class CapClusterMethods
{
    // First: the fields below are read from these.
    private static readonly GeneratedMethods EngineLinkMethods = GeneratedMethods.Of<V1.EngineLink.EngineLinkBase>(V1.EngineLink.BindService);
    private static readonly GeneratedMethods MultiEngineMethods = GeneratedMethods.Of<V1.MultiEngine.MultiEngineBase>(V1.MultiEngine.BindService);
    private static readonly GeneratedMethods TaskFarmMethods = GeneratedMethods.Of<V1.TaskFarm.TaskFarmBase>(V1.TaskFarm.BindService);

    /// <summary>Service name of the engines' interface.</summary>
    public const string EngineLinkService = "capcluster.v1.EngineLink";

    /// <summary>Service name of the explicit-engine interface.</summary>
    public const string MultiEngineService = "capcluster.v1.MultiEngine";

    /// <summary>Service name of the load-balanced task interface.</summary>
    public const string TaskFarmService = "capcluster.v1.TaskFarm";

    /// <summary>An engine's long-lived registration, heartbeat and work stream.</summary>
    public static readonly Method<EngineMessage, ControllerMessage> EngineConnect =
        EngineLinkMethods.Get<EngineMessage, ControllerMessage>("Connect");

    /// <summary>Grants a stream lane that carries an engine's <see cref="EngineConnect"/> stream off HTTP/2.</summary>
    public static readonly Method<OpenStreamRequest, OpenStreamReply> EngineOpenStream =
        EngineLinkMethods.Get<OpenStreamRequest, OpenStreamReply>("OpenStream");

    /// <summary>An engine's link, on HTTP/2 or on a stream lane.</summary>
    public static readonly StreamMethod<EngineMessage, ControllerMessage> EngineLink = new(EngineConnect, EngineOpenStream);

    /// <summary>The ids of the registered engines.</summary>
    public static readonly Method<GetIdsRequest, GetIdsReply> GetIds =
        MultiEngineMethods.Get<GetIdsRequest, GetIdsReply>("GetIds");

    /// <summary>Every registered engine with its host, pid, state and heartbeat.</summary>
    public static readonly Method<ListEnginesRequest, ListEnginesReply> ListEngines =
        MultiEngineMethods.Get<ListEnginesRequest, ListEnginesReply>("ListEngines");

    /// <summary>A ping through each target engine's queue.</summary>
    public static readonly Method<PingRequest, PingReply> Ping =
        MultiEngineMethods.Get<PingRequest, PingReply>("Ping");

    /// <summary>Stops engines and, optionally, the controller.</summary>
    public static readonly Method<KillRequest, KillReply> Kill =
        MultiEngineMethods.Get<KillRequest, KillReply>("Kill");

    /// <summary>A client's long-lived call stream (execute, push, pull, apply, ... on target engines).</summary>
    public static readonly Method<SessionMessage, SessionMessage> Session =
        MultiEngineMethods.Get<SessionMessage, SessionMessage>("Session");

    /// <summary>Queued, running and completed counts of each target engine's queue.</summary>
    public static readonly Method<EngineQueuesRequest, EngineQueuesReply> EngineQueues =
        MultiEngineMethods.Get<EngineQueuesRequest, EngineQueuesReply>("EngineQueues");

    /// <summary>Drops what waits in the target engines' queues.</summary>
    public static readonly Method<ClearQueueRequest, ClearQueueReply> ClearQueue =
        MultiEngineMethods.Get<ClearQueueRequest, ClearQueueReply>("ClearQueue");

    /// <summary>Grants a data lane to one engine, for bulk values end to end.</summary>
    public static readonly Method<OpenLaneRequest, OpenLaneReply> OpenLane =
        MultiEngineMethods.Get<OpenLaneRequest, OpenLaneReply>("OpenLane");

    /// <summary>Counts of queued, running and finished tasks.</summary>
    public static readonly Method<QueueStatusRequest, QueueStatusReply> QueueStatus =
        TaskFarmMethods.Get<QueueStatusRequest, QueueStatusReply>("QueueStatus");

    /// <summary>A client's task stream: batched submissions in, their ids and then their results out.</summary>
    public static readonly Method<TaskClientMessage, TaskServerMessage> Tasks =
        TaskFarmMethods.Get<TaskClientMessage, TaskServerMessage>("Tasks");

    /// <summary>Grants a stream lane that carries a client's <see cref="Tasks"/> stream off HTTP/2.</summary>
    public static readonly Method<OpenStreamRequest, OpenStreamReply> TasksOpenStream =
        TaskFarmMethods.Get<OpenStreamRequest, OpenStreamReply>("OpenStream");

    /// <summary>A client's task stream, on HTTP/2 or on a stream lane.</summary>
    public static readonly StreamMethod<TaskClientMessage, TaskServerMessage> TaskStream = new(Tasks, TasksOpenStream);

    /// <summary>
    /// <see cref="TaskStream"/> as a client reads it: the same method and bytes, its results left encoded until read
    /// (<see cref="TaskServerMessageView"/>).
    /// </summary>
    public static readonly StreamMethod<TaskClientMessage, TaskServerMessageView> TaskStreamView = new(
        new(MethodType.DuplexStreaming, Tasks.ServiceName, Tasks.Name, Tasks.RequestMarshaller, MarshallerOf(TaskServerMessageView.Parser)),
        TasksOpenStream);

    /// <summary>Task results by id, from any task client of this controller.</summary>
    public static readonly Method<GetResultsRequest, GetResultsReply> GetResults =
        TaskFarmMethods.Get<GetResultsRequest, GetResultsReply>("GetResults");

    /// <summary>Aborts tasks.</summary>
    public static readonly Method<AbortRequest, AbortReply> Abort =
        TaskFarmMethods.Get<AbortRequest, AbortReply>("Abort");

    /// <summary>Forgets finished results.</summary>
    public static readonly Method<ClearRequest, ClearReply> ClearResults =
        TaskFarmMethods.Get<ClearRequest, ClearReply>("Clear");

    /// <summary>Whether the controller still accepts the caller's engine capability.</summary>
    public static readonly Method<CheckRequest, CheckReply> EngineCheck =
        EngineLinkMethods.Get<CheckRequest, CheckReply>("Check");

    /// <summary>Whether the controller still accepts the caller's multiengine capability.</summary>
    public static readonly Method<CheckRequest, CheckReply> MultiEngineCheck =
        MultiEngineMethods.Get<CheckRequest, CheckReply>("Check");

    /// <summary>Whether the controller still accepts the caller's task capability.</summary>
    public static readonly Method<CheckRequest, CheckReply> TaskFarmCheck =
        TaskFarmMethods.Get<CheckRequest, CheckReply>("Check");

    /// <summary>A marshaller for <typeparamref name="T"/>, as protoc's generated code makes them: from and to the buffers themselves.</summary>
    private static Marshaller<T> MarshallerOf<T>(Google.Protobuf.MessageParser<T> parser)
        where T : Google.Protobuf.IMessage<T> =>
        Marshallers.Create<T>(
            (message, context) =>
            {
                context.SetPayloadLength(message.CalculateSize());
                Google.Protobuf.MessageExtensions.WriteTo(message, context.GetBufferWriter());
                context.Complete();
            },
            context => parser.ParseFrom(context.PayloadAsReadOnlySequence()));

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

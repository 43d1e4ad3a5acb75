using CapCluster.Protocol.Data;
using Google.Protobuf.Collections;

#pragma warning disable IDE0130 // The partial classes extend the generated messages, in their namespace.
namespace CapCluster.Protocol.V1;

/// <summary>A client's call (head: the call) and the controller's results (head: each result).</summary>
public sealed partial class SessionMessage : IUnitMessage<SessionMessage>
{
    DataChunk? IUnitMessage<SessionMessage>.ChunkOrNull => KindCase == KindOneofCase.Chunk ? Chunk : null;

    RepeatedField<long>? IUnitMessage<SessionMessage>.HeadLengths => KindCase switch
    {
        KindOneofCase.Call => Call.BlobLengths,
        KindOneofCase.Result => Result.BlobLengths,
        _ => null,
    };

    long IUnitMessage<SessionMessage>.UnitId => KindCase switch
    {
        KindOneofCase.Call => Call.CallId,
        KindOneofCase.Result => Result.CallId,
        _ => 0,
    };

    static SessionMessage IUnitMessage<SessionMessage>.OfChunk(DataChunk chunk) => new() { Chunk = chunk };
}

/// <summary>An engine's messages to the controller; its results head units.</summary>
public sealed partial class EngineMessage : IUnitMessage<EngineMessage>
{
    DataChunk? IUnitMessage<EngineMessage>.ChunkOrNull => KindCase == KindOneofCase.Chunk ? Chunk : null;

    RepeatedField<long>? IUnitMessage<EngineMessage>.HeadLengths => KindCase == KindOneofCase.Result ? Result.BlobLengths : null;

    long IUnitMessage<EngineMessage>.UnitId => KindCase == KindOneofCase.Result ? Result.WorkId : 0;

    static EngineMessage IUnitMessage<EngineMessage>.OfChunk(DataChunk chunk) => new() { Chunk = chunk };
}

/// <summary>The controller's messages to an engine; its work heads units.</summary>
public sealed partial class ControllerMessage : IUnitMessage<ControllerMessage>
{
    DataChunk? IUnitMessage<ControllerMessage>.ChunkOrNull => KindCase == KindOneofCase.Chunk ? Chunk : null;

    RepeatedField<long>? IUnitMessage<ControllerMessage>.HeadLengths => KindCase == KindOneofCase.Work ? Work.BlobLengths : null;

    long IUnitMessage<ControllerMessage>.UnitId => KindCase == KindOneofCase.Work ? Work.WorkId : 0;

    static ControllerMessage IUnitMessage<ControllerMessage>.OfChunk(DataChunk chunk) => new() { Chunk = chunk };
}

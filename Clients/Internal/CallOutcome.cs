using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;

namespace CapCluster.Client.Internal;

/// <summary>One engine's answer to a call, with its received values (blobs already in their final arrays).</summary>
internal sealed record CallOutcome(
    int EngineId,
    EngineReply? Reply,
    string? Failure,
    ReceivedValues? Values,
    DateTimeOffset Submitted,
    DateTimeOffset? Started,
    DateTimeOffset? Completed,
    Refusal? Refusal = null);

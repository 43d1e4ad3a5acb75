using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Data;

/// <summary>Where a unit's chunks go as they arrive: the receiver's arrays (<see cref="ReceivedValues"/>) or a relay's buffer (<see cref="RelayedBlobs"/>).</summary>
public interface IBlobSink
{
    /// <summary>True when every announced byte has arrived.</summary>
    bool IsComplete { get; }

    /// <summary>Takes a chunk of the unit; true when that completed it.</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT when the chunk does not fit what was announced.</exception>
    bool Add(DataChunk chunk);
}

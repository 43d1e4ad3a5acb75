using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Data;

/// <summary>
/// Keeps a call's chunks as they arrived, for a relay (the controller) that forwards them
/// without looking inside: the chunk messages are kept, their bytes are not copied.
/// </summary>
public sealed class ChunkBuffer(IReadOnlyList<long> announced)
{
    private readonly List<DataChunk> chunks = [];
    private long remaining = announced.Sum();

    /// <summary>The chunks received so far, in arrival order.</summary>
    public IReadOnlyList<DataChunk> Chunks => chunks;

    /// <summary>True once every announced byte has arrived.</summary>
    public bool IsComplete => remaining == 0;

    /// <summary>Total bytes announced.</summary>
    public long TotalBytes { get; } = announced.Sum();

    /// <summary>Adds a chunk; true when that completed the call's data.</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT when the chunk does not fit the announced blobs.</exception>
    public bool Add(DataChunk chunk)
    {
        if (chunk.Blob < 0 || chunk.Blob >= announced.Count || chunk.Offset < 0 || chunk.Offset + chunk.Data.Length > announced[chunk.Blob])
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"a data chunk (blob {chunk.Blob}, offset {chunk.Offset}, {chunk.Data.Length} bytes) does not fit the {announced.Count} blobs announced"));
        }

        chunks.Add(chunk);
        remaining -= chunk.Data.Length;
        return remaining == 0;
    }
}

using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Data;

/// <summary>
/// Keeps a call's chunks as they arrived, for a relay (the controller) that forwards them
/// without looking inside: the chunk messages are kept, their bytes are not copied. A buffer for a
/// refused call only counts them, so that the stream stays in step, and keeps nothing.
/// </summary>
public sealed class ChunkBuffer
{
    private readonly IReadOnlyList<long> announced;
    private readonly List<DataChunk>? chunks;
    private long remaining;

    /// <summary>A buffer for chunks of the <paramref name="announced"/> blob lengths; with <paramref name="keep"/> false, they are checked and dropped.</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT when a length is negative or they overflow.</exception>
    public ChunkBuffer(IReadOnlyList<long> announced, bool keep = true)
    {
        this.announced = announced;
        TotalBytes = Total(announced);
        remaining = TotalBytes;
        chunks = keep ? [] : null;
    }

    /// <summary>The chunks received so far, in arrival order (none when they are dropped).</summary>
    public IReadOnlyList<DataChunk> Chunks => chunks ?? [];

    /// <summary>True once every announced byte has arrived.</summary>
    public bool IsComplete => remaining == 0;

    /// <summary>Total bytes announced.</summary>
    public long TotalBytes { get; }

    /// <summary>The sum of blob <paramref name="lengths"/>, each of which must be zero or more.</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT when a length is negative or they overflow.</exception>
    public static long Total(IReadOnlyList<long> lengths)
    {
        long total = 0;
        foreach (var length in lengths)
        {
            if (length < 0 || total > long.MaxValue - length)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"a blob length of {length} bytes is not a length (or the lengths overflow)"));
            }

            total += length;
        }

        return total;
    }

    /// <summary>Adds a chunk; true when that completed the call's data.</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT when the chunk does not fit the announced blobs.</exception>
    public bool Add(DataChunk chunk)
    {
        // Never more bytes than announced, so what is kept is bounded by what was admitted.
        if (chunk.Blob < 0 || chunk.Blob >= announced.Count || chunk.Offset < 0 || chunk.Offset > announced[chunk.Blob] - chunk.Data.Length || chunk.Data.Length > remaining)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"a data chunk (blob {chunk.Blob}, offset {chunk.Offset}, {chunk.Data.Length} bytes) does not fit the {announced.Count} blobs announced"));
        }

        chunks?.Add(chunk);
        remaining -= chunk.Data.Length;
        return remaining == 0;
    }
}

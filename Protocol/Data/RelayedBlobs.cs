using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Data;

/// <summary>
/// A unit's blobs as a relay (the controller) receives them, to forward without looking inside: the chunks are
/// kept as they arrived, their bytes not copied, and <see cref="Units.Relay{TMessage}(TMessage, RelayedBlobs)"/> sends them on. One for a
/// dropped unit only counts them, so that the stream stays in step, and keeps nothing.
/// </summary>
public sealed class RelayedBlobs : IBlobSink
{
    /// <summary>No blobs: what a unit that announces none relays.</summary>
    public static RelayedBlobs None { get; } = new([]);

    private readonly IReadOnlyList<long> announced;
    private readonly List<DataChunk>? chunks;
    private long remaining;

    /// <summary>Blobs of the <paramref name="announced"/> lengths; with <paramref name="keep"/> false, their chunks are checked and dropped.</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT when a length is negative or they overflow.</exception>
    public RelayedBlobs(IReadOnlyList<long> announced, bool keep = true)
    {
        this.announced = announced;
        TotalBytes = Total(announced);
        remaining = TotalBytes;
        chunks = keep ? [] : null;
    }

    /// <summary>The chunks received so far, in arrival order (none when they are dropped).</summary>
    internal IReadOnlyList<DataChunk> Chunks => chunks ?? [];

    /// <summary>The blob lengths announced.</summary>
    public IReadOnlyList<long> Announced => announced;

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

using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Protocol.Data;

/// <summary>
/// Splits a call's blobs (raw array bytes) into <see cref="DataChunk"/> messages without
/// copying: each chunk's data is a view over the caller's memory until the framing layer
/// writes it to the stream.
/// </summary>
public static class DataChunks
{
    /// <summary>Bytes per chunk. Default 1 MiB: large enough to amortise framing, small enough to interleave heartbeats.</summary>
    public const int ChunkSize = 1 << 20;

    /// <summary>The chunks of <paramref name="blobs"/>, in order, for call <paramref name="callId"/>.</summary>
    /// <remarks>The memory must not change until the chunks have been written.</remarks>
    public static IEnumerable<DataChunk> Split(long callId, IReadOnlyList<ReadOnlyMemory<byte>> blobs)
    {
        for (var blob = 0; blob < blobs.Count; blob++)
        {
            var memory = blobs[blob];
            for (var offset = 0; offset < memory.Length; offset += ChunkSize)
            {
                var length = Math.Min(ChunkSize, memory.Length - offset);
                yield return new DataChunk
                {
                    CallId = callId,
                    Blob = blob,
                    Offset = offset,
                    Data = UnsafeByteOperations.UnsafeWrap(memory.Slice(offset, length)),
                };
            }
        }
    }

    /// <summary>The lengths of <paramref name="blobs"/>, as a header announces them.</summary>
    public static IEnumerable<long> Lengths(IReadOnlyList<ReadOnlyMemory<byte>> blobs) => blobs.Select(b => (long)b.Length);

    /// <summary>The same chunk under another call id (the data is shared, not copied).</summary>
    public static DataChunk Readdress(DataChunk chunk, long callId) =>
        new() { CallId = callId, Blob = chunk.Blob, Offset = chunk.Offset, Data = chunk.Data };
}

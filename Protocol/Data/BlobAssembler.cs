using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Data;

/// <summary>
/// Receives a call's chunks into their final memory: each chunk is copied once, straight
/// into the target (for arrays, the array the receiver will hand to the user). Refuses
/// chunks that do not fit what the header announced, and chunks out of order within their
/// blob: the targets are not zeroed first, so complete must mean every byte written.
/// </summary>
public sealed class BlobAssembler
{
    private readonly IReadOnlyList<Memory<byte>> targets;
    private readonly long[] arrived;
    private long remaining;

    /// <summary>Assembles into <paramref name="targets"/>, whose lengths must equal the announced blob lengths.</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT when the targets do not match the announced lengths.</exception>
    public BlobAssembler(IReadOnlyList<Memory<byte>> targets, IReadOnlyList<long> announced)
    {
        if (targets.Count != announced.Count || targets.Where((t, i) => t.Length != announced[i]).Any())
        {
            throw Invalid($"the data announced ({announced.Count} blobs, {announced.Sum()} bytes) does not match the values it belongs to ({targets.Count} blobs, {targets.Sum(t => (long)t.Length)} bytes)");
        }

        this.targets = targets;
        arrived = new long[targets.Count];
        remaining = announced.Sum();
    }

    /// <summary>True once every announced byte has arrived.</summary>
    public bool IsComplete => remaining == 0;

    /// <summary>Copies one chunk into place; true when that completed the call's data.</summary>
    public bool Add(DataChunk chunk)
    {
        if (chunk.Blob < 0 || chunk.Blob >= targets.Count)
        {
            throw Invalid($"a data chunk names blob {chunk.Blob}, but the call has {targets.Count}");
        }

        var target = targets[chunk.Blob];
        if (chunk.Offset != arrived[chunk.Blob])
        {
            throw Invalid($"a data chunk of blob {chunk.Blob} starts at offset {chunk.Offset}, where the next byte is {arrived[chunk.Blob]} (a blob's chunks come in order)");
        }

        if (chunk.Offset + chunk.Data.Length > target.Length)
        {
            throw Invalid($"a data chunk of blob {chunk.Blob} at offset {chunk.Offset} ({chunk.Data.Length} bytes) runs past its end ({target.Length} bytes)");
        }

        chunk.Data.Span.CopyTo(target.Span[(int)chunk.Offset..]);
        arrived[chunk.Blob] += chunk.Data.Length;
        remaining -= chunk.Data.Length;
        return remaining == 0;
    }

    private static RpcException Invalid(string detail) => new(new Status(StatusCode.InvalidArgument, detail));
}

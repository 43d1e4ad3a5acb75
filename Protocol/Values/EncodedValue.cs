using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Values;

/// <summary>
/// An encoded value: the <see cref="Tree"/> describes it, and large numeric arrays travel
/// beside it as <see cref="Blobs"/>. The blobs are views over the caller's arrays, not
/// copies: the caller must not change those arrays until the value has been sent.
/// </summary>
public sealed class EncodedValue
{
    internal EncodedValue(Value tree, IReadOnlyList<ReadOnlyMemory<byte>> blobs)
    {
        Tree = tree;
        Blobs = blobs;
        long total = tree.CalculateSize();
        foreach (var blob in blobs)
        {
            total += blob.Length;
        }

        TotalBytes = total;
    }

    /// <summary>The value tree; numeric arrays above the inline limit refer to blobs by index.</summary>
    public Value Tree { get; }

    /// <summary>The raw little-endian bytes of the large arrays, in blob-index order.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Blobs { get; }

    /// <summary>The serialized size of <see cref="Tree"/> plus the length of every blob.</summary>
    public long TotalBytes { get; }
}

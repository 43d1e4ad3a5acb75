namespace CapCluster.Protocol.Values;

/// <summary>
/// The receiver's destination arrays for the blobs of a value tree, made by
/// <see cref="ValueCodec.AllocateTargets(CapCluster.Protocol.V1.Value)"/>. Copy each
/// blob's bytes, as they arrive, into <c>this[index]</c>; then
/// <see cref="ValueCodec.Decode"/> returns these very arrays, without another copy.
/// </summary>
public sealed class BlobTargets
{
    private readonly Memory<byte>[] _memories;
    private readonly Array?[] _arrays;

    internal BlobTargets(Memory<byte>[] memories, Array?[] arrays, long totalBytes)
    {
        _memories = memories;
        _arrays = arrays;
        TotalBytes = totalBytes;
    }

    /// <summary>The number of blobs the tree refers to.</summary>
    public int Count => _memories.Length;

    /// <summary>The writable bytes of blob <paramref name="index"/>, inside its final array.</summary>
    public Memory<byte> this[int index] => _memories[index];

    /// <summary>The total length of all blobs.</summary>
    public long TotalBytes { get; }

    /// <summary>The destination array of the array header whose first blob is <paramref name="blobIndex"/>.</summary>
    internal Array? ArrayAt(int blobIndex) => _arrays[blobIndex];
}

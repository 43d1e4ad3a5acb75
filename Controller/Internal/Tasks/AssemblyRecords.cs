using Google.Protobuf;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// Shipped images and assembly closures the <see cref="AssemblyStore"/> learnt from a submission (for the journal), or
/// read back from the journal at a restart.
/// </summary>
internal sealed class AssemblyRecords
{
    /// <summary>Images by the SHA-256 of their bytes, each with the capability it is charged to (null: none, an image journaled before charges were kept).</summary>
    public List<(string Hash, ByteString Image, string? Owner)> Images { get; } = [];

    /// <summary>Closures by id, each with the image hashes it hashes (declaring assembly first).</summary>
    public List<(string Id, IReadOnlyList<string> Hashes)> Closures { get; } = [];

    public bool IsEmpty => Images.Count == 0 && Closures.Count == 0;
}

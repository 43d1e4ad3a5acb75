using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;
using Google.Protobuf;

namespace CapCluster.Protocol.Data;

/// <summary>
/// Named values about to be sent: their trees, and the blobs of their large arrays (views over the
/// sender's own arrays, not copies), numbered across the values in the order they were added.
/// </summary>
public sealed class OutgoingValues
{
    private readonly List<ReadOnlyMemory<byte>> blobs = [];

    /// <summary>The blobs of every value added so far, in order.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Blobs => blobs;

    /// <summary>Encodes <paramref name="value"/> as <paramref name="name"/>; errors name it as <paramref name="description"/> (default: the name).</summary>
    /// <exception cref="UnsendableValueException">The value cannot be sent; the message names it and its type.</exception>
    public NamedValue Add(string name, object? value, string? description = null)
    {
        var encoded = ValueCodec.Encode(value, description ?? name);
        blobs.AddRange(encoded.Blobs);
        return new NamedValue { Name = name, Tree = MessageBytes.StringOf(encoded.Tree) };
    }

    /// <summary>
    /// Encodes <paramref name="value"/> as <paramref name="name"/> with its arrays inside the tree, however large (a task's
    /// values travel in its spec); errors name it as <paramref name="description"/> (default: the name).
    /// </summary>
    /// <exception cref="UnsendableValueException">The value cannot be sent; the message names it and its type.</exception>
    public static NamedValue Inline(string name, object? value, string? description = null) =>
        new() { Name = name, Tree = MessageBytes.StringOf(ValueCodec.Encode(value, description ?? name, inlineLimit: int.MaxValue).Tree) };
}

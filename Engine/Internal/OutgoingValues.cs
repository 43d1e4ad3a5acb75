using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;
using Google.Protobuf;

namespace CapCluster.Engine.Internal;

/// <summary>Values an engine sends back: their trees, and their blobs (views over the engine's own arrays, not copies).</summary>
internal sealed class OutgoingValues
{
    private readonly List<ReadOnlyMemory<byte>> blobs = [];

    public IReadOnlyList<ReadOnlyMemory<byte>> Blobs => blobs;

    public NamedValue Add(string name, object? value)
    {
        var encoded = ValueCodec.Encode(value, name);
        blobs.AddRange(encoded.Blobs);
        return new NamedValue { Name = name, Tree = encoded.Tree.ToByteString() };
    }
}

using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;

namespace CapCluster.Protocol.Data;

/// <summary>
/// Named values arriving on a stream: their trees parsed, and the destination arrays of their
/// blobs allocated up front, so that the chunks that follow are copied once, into the arrays
/// the receiver keeps. Blobs are numbered across the values in order.
/// </summary>
public sealed class ReceivedValues : IBlobSink
{
    private readonly List<(NamedValue Named, Value Tree, BlobTargets Targets)> values = [];
    private readonly List<Memory<byte>> targets;
    private readonly BlobAssembler? assembler;
    private bool filled;

    /// <summary>No values: complete as it is.</summary>
    public static ReceivedValues None { get; } = new([], []);

    /// <summary>
    /// Prepares to receive <paramref name="named"/>, whose blobs have the announced lengths: no more is allocated than
    /// the lengths announce, and they may announce at most <paramref name="maxBytes"/> (what the sender was admitted for).
    /// </summary>
    /// <exception cref="RpcException">
    /// INVALID_ARGUMENT when a tree is malformed, a length negative, or the lengths do not match the trees;
    /// RESOURCE_EXHAUSTED when they announce more than <paramref name="maxBytes"/>.
    /// </exception>
    public ReceivedValues(IEnumerable<NamedValue> named, IReadOnlyList<long> blobLengths, long maxBytes = long.MaxValue)
    {
        var announced = RelayedBlobs.Total(blobLengths);
        if (announced > maxBytes)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"the values announce {announced} blob bytes, more than the {maxBytes} admitted for them"));
        }

        var left = announced;
        foreach (var value in named)
        {
            Value tree;
            try
            {
                tree = Value.Parser.ParseFrom(value.Tree.Span);
            }
            catch (Google.Protobuf.InvalidProtocolBufferException e)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"the value '{value.Name}' is malformed: {e.Message}"));
            }

            BlobTargets targets;
            try
            {
                // The trees may not allocate more than the lengths announce: they must match exactly in the end.
                targets = ValueCodec.AllocateTargets(tree, left);
            }
            catch (MalformedValueException e)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"the value '{value.Name}' is malformed: {e.Message}"));
            }

            left -= targets.TotalBytes;
            values.Add((value, tree, targets));
        }

        targets = values.SelectMany(v => Enumerable.Range(0, v.Targets.Count).Select(i => v.Targets[i])).ToList();
        foreach (var target in targets)
        {
            Prefault.Start(target);
        }

        if (targets.Count > 0 || blobLengths.Count > 0)
        {
            assembler = new BlobAssembler(targets, blobLengths);
        }
    }

    /// <summary>The named values given at construction, in order.</summary>
    public IReadOnlyList<NamedValue> Named => values.ConvertAll(v => v.Named);

    /// <summary>True when every blob byte has arrived.</summary>
    public bool IsComplete => filled || assembler is null || assembler.IsComplete;

    /// <summary>
    /// Fills every blob, in order, straight in its final array with <paramref name="readExactly"/>; for a
    /// lane, whose records are received and decrypted in the span they belong to.
    /// </summary>
    internal void ReadBlobs(Action<Memory<byte>> readExactly)
    {
        foreach (var target in targets)
        {
            readExactly(target);
        }

        filled = true;
    }

    /// <summary>Copies a chunk into place; true when the data is complete.</summary>
    public bool Add(DataChunk chunk) => assembler?.Add(chunk) ?? true;

    /// <summary>The decoded value of one of the named values given at construction.</summary>
    /// <exception cref="InvalidOperationException">Some blob bytes have not arrived.</exception>
    public object? Decode(NamedValue named)
    {
        var entry = Complete(named);
        return ValueCodec.Decode(entry.Tree, entry.Targets);
    }

    /// <summary>The value of <paramref name="named"/> converted to <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidOperationException">Some blob bytes have not arrived.</exception>
    public T DecodeAs<T>(NamedValue named)
    {
        var entry = Complete(named);
        return ValueCodec.DecodeAs<T>(entry.Tree, entry.Targets);
    }

    // The arrays are allocated without zeroing (ArrayLayout.AllocateToOverwrite): until every blob byte has
    // arrived, they hold whatever the memory held before, and no value may be built on them.
    private (NamedValue Named, Value Tree, BlobTargets Targets) Complete(NamedValue named) =>
        IsComplete
            ? values.First(v => ReferenceEquals(v.Named, named))
            : throw new InvalidOperationException($"the value '{named.Name}' cannot be decoded before all its data has arrived");
}

using CapCluster.Protocol.V1;
using Google.Protobuf.Collections;

namespace CapCluster.Protocol.Data;

/// <summary>Writes units (<see cref="IUnitMessage{TSelf}"/>): a head, then its blobs as chunks.</summary>
public static class Units
{
    /// <summary>
    /// <paramref name="head"/> announcing <paramref name="blobs"/>, then their chunks, as the messages to write with
    /// nothing in between. The chunks are views over the caller's memory, which must not change until they are written.
    /// </summary>
    public static List<TMessage> Of<TMessage>(TMessage head, IReadOnlyList<ReadOnlyMemory<byte>> blobs)
        where TMessage : IUnitMessage<TMessage>
    {
        var lengths = Lengths(head);
        var messages = new List<TMessage>(1 + blobs.Count) { head };
        foreach (var blob in blobs)
        {
            lengths.Add(blob.Length);
        }

        foreach (var chunk in DataChunks.Split(head.UnitId, blobs))
        {
            messages.Add(TMessage.OfChunk(chunk));
        }

        return messages;
    }

    /// <summary>
    /// <paramref name="head"/> with the chunks a relay received in <paramref name="blobs"/>, readdressed to the head's
    /// id (the bytes are shared, not copied); the head announces what they announced.
    /// </summary>
    public static List<TMessage> Relay<TMessage>(TMessage head, RelayedBlobs blobs)
        where TMessage : IUnitMessage<TMessage>
    {
        var messages = new List<TMessage>(1 + blobs.Chunks.Count);
        Relay(head, blobs, messages.Add);
        return messages;
    }

    /// <summary>
    /// <see cref="Relay{TMessage}(TMessage, RelayedBlobs)"/>, each message handed to <paramref name="write"/> in turn
    /// (for an outbox that keeps the order it is given).
    /// </summary>
    public static void Relay<TMessage>(TMessage head, RelayedBlobs blobs, Action<TMessage> write)
        where TMessage : IUnitMessage<TMessage>
    {
        Lengths(head).AddRange(blobs.Announced);
        write(head);
        foreach (var chunk in blobs.Chunks)
        {
            write(TMessage.OfChunk(DataChunks.Readdress(chunk, head.UnitId)));
        }
    }

    /// <summary>The head's announced lengths, emptied: a head sent again (a retry) announces its blobs once.</summary>
    private static RepeatedField<long> Lengths<TMessage>(TMessage head)
        where TMessage : IUnitMessage<TMessage>
    {
        var lengths = head.HeadLengths ?? throw new ArgumentException("the message does not head a unit", nameof(head));
        lengths.Clear();
        return lengths;
    }
}

using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Data;

/// <summary>
/// Reads a stream of <see cref="IUnitMessage{TSelf}"/> whole: each unit once all its blobs have arrived, in the sink
/// <c>receive</c> made for it, and every other message as it comes. A unit whose sink is null is dropped: its chunks
/// are still read (and checked against what it announced), so the stream stays in step, and kept nowhere.
/// </summary>
/// <typeparam name="TMessage">The stream's message type.</typeparam>
/// <typeparam name="TBlobs">Where a unit's blobs go.</typeparam>
/// <param name="messages">The stream.</param>
/// <param name="receive">
/// Makes the sink for a unit's head (called for every head, with blobs or not), or null to drop the unit. It may
/// throw to end the stream; what it throws, <see cref="MoveNext"/> throws.
/// </param>
/// <param name="strict">
/// True when a chunk of no announced unit, or a head announcing lengths that are not lengths, ends the stream with
/// INVALID_ARGUMENT, and more than <see cref="MaxUnfinished"/> unfinished units with RESOURCE_EXHAUSTED (a peer that is not trusted: the controller reading a client or an engine); false to ignore them (a unit
/// its receiver already failed).
/// </param>
/// <param name="seen">Called with every message read, chunks too (to note that the peer is alive).</param>
public sealed class UnitReader<TMessage, TBlobs>(IAsyncStreamReader<TMessage> messages, Func<TMessage, TBlobs?> receive, bool strict, Action<TMessage>? seen = null)
    where TMessage : class, IUnitMessage<TMessage>
    where TBlobs : class, IBlobSink
{
    /// <summary>
    /// Units a strict stream may have announced and not finished at once. A sender writes each unit's chunks right
    /// after its head, so one is the norm; without a bound, a peer announcing data it never sends (refused calls
    /// included) would make the reader keep an entry per head for as long as the stream lasts.
    /// </summary>
    public const int MaxUnfinished = 64;

    private readonly Dictionary<long, (TMessage Head, TBlobs Blobs)> receiving = [];
    private readonly Dictionary<long, RelayedBlobs> dropping = [];

    /// <summary>The message read last: a unit's head, or a message that stands alone.</summary>
    public TMessage Current { get; private set; } = null!;

    /// <summary>The blobs of <see cref="Current"/> when it heads a unit, all arrived; null for a message that stands alone.</summary>
    public TBlobs? Blobs { get; private set; }

    /// <summary>Units whose head was read and whose blobs have not all arrived (to release what was reserved for them).</summary>
    public IEnumerable<(TMessage Head, TBlobs Blobs)> Unfinished => receiving.Values;

    /// <summary>Reads up to the next whole unit or standalone message; false at the end of the stream.</summary>
    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        while (await messages.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            seen?.Invoke(messages.Current);
            if (Take(messages.Current))
            {
                return true;
            }
        }

        return false;
    }

    private bool Take(TMessage message)
    {
        if (message.ChunkOrNull is { } chunk)
        {
            return TakeChunk(chunk);
        }

        if (message.HeadLengths is not { } lengths)
        {
            (Current, Blobs) = (message, null);
            return true;
        }

        // Checked before the receiver reserves anything for the unit.
        if (strict && lengths.Count > 0 && receiving.Count + dropping.Count >= MaxUnfinished)
        {
            throw TooManyUnfinished();
        }

        var blobs = receive(message);
        if (blobs is null)
        {
            Drop(message.UnitId, lengths);
            return false;
        }

        if (blobs.IsComplete)
        {
            (Current, Blobs) = (message, blobs);
            return true;
        }

        if (!receiving.TryAdd(message.UnitId, (message, blobs)) && strict)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"unit {message.UnitId} was announced twice"));
        }

        return false;
    }

    private bool TakeChunk(DataChunk chunk)
    {
        if (receiving.TryGetValue(chunk.CallId, out var unit))
        {
            if (!unit.Blobs.Add(chunk))
            {
                return false;
            }

            receiving.Remove(chunk.CallId);
            (Current, Blobs) = unit;
            return true;
        }

        if (dropping.TryGetValue(chunk.CallId, out var dropped))
        {
            if (dropped.Add(chunk))
            {
                dropping.Remove(chunk.CallId);
            }

            return false;
        }

        return strict
            ? throw new RpcException(new Status(StatusCode.InvalidArgument, $"a data chunk for unit {chunk.CallId}, which announced no data"))
            : false;
    }

    private void Drop(long id, IReadOnlyList<long> lengths)
    {
        RelayedBlobs counter;
        try
        {
            counter = new RelayedBlobs(lengths, keep: false);
        }
        catch (RpcException) when (!strict)
        {
            return;
        }

        if (!counter.IsComplete)
        {
            dropping[id] = counter;
        }
    }

    private static RpcException TooManyUnfinished() => new(new Status(
        StatusCode.ResourceExhausted, $"more than {MaxUnfinished} units were announced and their data not sent; send each unit's data right after it"));
}

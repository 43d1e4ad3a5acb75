namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// The finished results the farm holds, by holder, in the order they finished, and which to evict: beyond the count
/// in all, the oldest result of the capability holding the most; beyond a capability's bytes, its own oldest. A holder
/// who runs more tasks, or larger results, than the limits allow evicts its own results first, never those of someone
/// who holds fewer; with one holder it is the oldest result overall.
/// </summary>
/// <remarks>
/// A cleared result stays in its holder's order until it comes up or the order is compacted (when more than half of it
/// is cleared), so a clear costs a count, not a search. Not thread-safe: the farm calls it under its lock.
/// </remarks>
/// <param name="limit">The most finished results held in all.</param>
/// <param name="maxBytesPerHolder">The most bytes of results one capability may have held; its newest result is kept whatever its size.</param>
internal sealed class FinishedResults(int limit, long maxBytesPerHolder)
{
    private readonly Dictionary<string, Holder> holders = new(StringComparer.Ordinal);

    /// <summary>Finished results held, in all (cleared ones not counted).</summary>
    public int Count { get; private set; }

    /// <summary>Bytes of the results <paramref name="owner"/> holds.</summary>
    public long BytesOf(string owner) => holders.TryGetValue(owner, out var holder) ? holder.Bytes : 0;

    /// <summary><paramref name="owner"/>'s task <paramref name="id"/> finished and its result, of <paramref name="bytes"/>, is held.</summary>
    public void Finished(string owner, long id, long bytes)
    {
        if (!holders.TryGetValue(owner, out var holder))
        {
            holders[owner] = holder = new Holder();
        }

        holder.Order.Enqueue(id);
        holder.Held++;
        holder.Bytes += bytes;
        Count++;
    }

    /// <summary>
    /// <paramref name="owner"/>'s results were cleared, <paramref name="count"/> of them, of <paramref name="bytes"/> in
    /// all; <paramref name="bytesHeld"/> gives the bytes of an id still held (null for one that is not), for compaction.
    /// </summary>
    public void Cleared(string owner, int count, long bytes, Func<long, long?> bytesHeld)
    {
        if (count == 0 || !holders.TryGetValue(owner, out var holder))
        {
            return;
        }

        holder.Held -= count;
        holder.Bytes -= bytes;
        Count -= count;
        if (holder.Held == 0)
        {
            holders.Remove(owner);
        }
        else if (holder.Order.Count > 2 * holder.Held + 64)
        {
            holder.Order = new Queue<long>(holder.Order.Where(id => bytesHeld(id) is not null));
        }
    }

    /// <summary>
    /// Takes the results to evict after <paramref name="owner"/>'s result finished: while more than the limit are held,
    /// the oldest still held of the holder that holds the most; while <paramref name="owner"/> holds more bytes than it
    /// may, its own oldest. <paramref name="bytesHeld"/> gives the bytes of an id still held, null for one that is not.
    /// They are forgotten here; the caller drops them.
    /// </summary>
    public List<long>? Evict(string owner, Func<long, long?> bytesHeld)
    {
        List<long>? evicted = null;
        while (Count > limit && holders.Count > 0)
        {
            EvictOldest(holders.MaxBy(h => h.Value.Held).Key, bytesHeld, ref evicted);
        }

        while (holders.TryGetValue(owner, out var holder) && holder.Bytes > maxBytesPerHolder && holder.Held > 1)
        {
            EvictOldest(owner, bytesHeld, ref evicted);
        }

        return evicted;
    }

    private void EvictOldest(string owner, Func<long, long?> bytesHeld, ref List<long>? evicted)
    {
        var holder = holders[owner];
        while (holder.Order.TryDequeue(out var id))
        {
            if (bytesHeld(id) is { } bytes)
            {
                (evicted ??= []).Add(id);
                holder.Bytes -= bytes;
                break;
            }
        }

        holder.Held--;
        Count--;
        if (holder.Held <= 0)
        {
            holders.Remove(owner);
        }
    }

    private sealed class Holder
    {
        public Queue<long> Order { get; set; } = new();

        public int Held { get; set; }

        public long Bytes { get; set; }
    }
}

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// The finished results the farm holds, by holder, in the order they finished, and which to evict beyond the limit:
/// the oldest result of the capability holding the most. A holder who runs more tasks than the limit allows evicts
/// its own results first, never those of someone who holds fewer; with one holder it is the oldest result overall.
/// </summary>
/// <remarks>
/// A cleared result stays in its holder's order until it comes up or the order is compacted (when more than half of it
/// is cleared), so a clear costs a count, not a search. Not thread-safe: the farm calls it under its lock.
/// </remarks>
/// <param name="limit">The most finished results held in all.</param>
internal sealed class FinishedResults(int limit)
{
    private readonly Dictionary<string, Holder> holders = new(StringComparer.Ordinal);

    /// <summary>Finished results held, in all (cleared ones not counted).</summary>
    public int Count { get; private set; }

    /// <summary><paramref name="owner"/>'s task <paramref name="id"/> finished and its result is held.</summary>
    public void Finished(string owner, long id)
    {
        if (!holders.TryGetValue(owner, out var holder))
        {
            holders[owner] = holder = new Holder();
        }

        holder.Order.Enqueue(id);
        holder.Held++;
        Count++;
    }

    /// <summary>
    /// <paramref name="owner"/>'s results were cleared, <paramref name="count"/> of them; <paramref name="isHeld"/> says
    /// which ids are still held, for compaction.
    /// </summary>
    public void Cleared(string owner, int count, Func<long, bool> isHeld)
    {
        if (count == 0 || !holders.TryGetValue(owner, out var holder))
        {
            return;
        }

        holder.Held -= count;
        Count -= count;
        if (holder.Held == 0)
        {
            holders.Remove(owner);
        }
        else if (holder.Order.Count > 2 * holder.Held + 64)
        {
            holder.Order = new Queue<long>(holder.Order.Where(isHeld));
        }
    }

    /// <summary>
    /// Takes the results to evict while more than the limit are held: each the oldest still held (by
    /// <paramref name="isHeld"/>) of the holder that holds the most. They are forgotten here; the caller drops them.
    /// </summary>
    public List<long>? Evict(Func<long, bool> isHeld)
    {
        List<long>? evicted = null;
        while (Count > limit && holders.Count > 0)
        {
            var (owner, holder) = holders.MaxBy(h => h.Value.Held);
            while (holder.Order.TryDequeue(out var id))
            {
                if (isHeld(id))
                {
                    (evicted ??= []).Add(id);
                    break;
                }
            }

            holder.Held--;
            Count--;
            if (holder.Held == 0)
            {
                holders.Remove(owner);
            }
        }

        return evicted;
    }

    private sealed class Holder
    {
        public Queue<long> Order { get; set; } = new();

        public int Held { get; set; }
    }
}

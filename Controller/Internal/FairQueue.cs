using System.Diagnostics.CodeAnalysis;

namespace CapCluster.Controller.Internal;

/// <summary>
/// What waits for one engine, served in turn between those who queued it: each one's items in the order it queued
/// them, and one item of each in turn, so that a holder who queues thousands of calls delays another holder's next
/// call by one of its own, not by all of them. Once completed it takes nothing more.
/// </summary>
/// <typeparam name="T">An item.</typeparam>
internal sealed class FairQueue<T>
{
    private readonly Lock sync = new();
    private readonly Dictionary<string, Queue<T>> byOwner = new(StringComparer.Ordinal);
    // The owners with items waiting, the one whose turn it is first.
    private readonly Queue<string> turns = new();
    private bool completed;

    /// <summary>Queues <paramref name="item"/> after <paramref name="owner"/>'s others; false once the queue was completed.</summary>
    public bool TryEnqueue(string owner, T item)
    {
        lock (sync)
        {
            if (completed)
            {
                return false;
            }

            if (!byOwner.TryGetValue(owner, out var items))
            {
                items = new Queue<T>();
                byOwner[owner] = items;
                turns.Enqueue(owner);
            }

            items.Enqueue(item);
            return true;
        }
    }

    /// <summary>The next item of the owner whose turn it is; that owner's turn then comes again after the others'.</summary>
    public bool TryDequeue([MaybeNullWhen(false)] out T item)
    {
        lock (sync)
        {
            if (!turns.TryDequeue(out var owner))
            {
                item = default;
                return false;
            }

            var items = byOwner[owner];
            item = items.Dequeue();
            if (items.Count == 0)
            {
                byOwner.Remove(owner);
            }
            else
            {
                turns.Enqueue(owner);
            }

            return true;
        }
    }

    /// <summary>Removes and returns every waiting item whose owner <paramref name="matches"/>.</summary>
    public List<T> RemoveAll(Func<string, bool> matches)
    {
        lock (sync)
        {
            return RemoveAllLocked(matches);
        }
    }

    /// <summary>Takes nothing more; returns what was waiting.</summary>
    public List<T> Complete()
    {
        lock (sync)
        {
            completed = true;
            return RemoveAllLocked(_ => true);
        }
    }

    private List<T> RemoveAllLocked(Func<string, bool> matches)
    {
        var removed = new List<T>();
        foreach (var owner in byOwner.Keys.Where(matches).ToList())
        {
            removed.AddRange(byOwner[owner]);
            byOwner.Remove(owner);
        }

        var left = turns.Where(byOwner.ContainsKey).ToList();
        turns.Clear();
        left.ForEach(turns.Enqueue);
        return removed;
    }
}

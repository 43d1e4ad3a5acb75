namespace CapCluster.Engine.Internal;

/// <summary>
/// Ids of tasks the controller aborted after sending them to this engine (<c>AbortTasks</c>), until their turn in a batch
/// comes: each is then skipped, answered as aborted, and forgotten. An abort that reached the engine after its task
/// started, or after it ran, is never met: the oldest ids beyond <see cref="Limit"/> are forgotten, so those cost no more
/// than that. Told on the link's reading thread, asked on the thread that runs the batch.
/// </summary>
internal sealed class AbortedTasks
{
    /// <summary>How many ids are remembered at most; an abort that reached the engine before its batch waits here until the batch comes.</summary>
    public const int Limit = 65_536;

    private readonly HashSet<long> ids = [];
    private readonly Queue<long> told = new();
    private int count;

    /// <summary>Remembers <paramref name="aborted"/> until their tasks' turns.</summary>
    public void Add(IReadOnlyList<long> aborted)
    {
        lock (ids)
        {
            for (var i = 0; i < aborted.Count; i++)
            {
                if (ids.Add(aborted[i]))
                {
                    told.Enqueue(aborted[i]);
                }
            }

            while (told.Count > Limit)
            {
                ids.Remove(told.Dequeue());
            }

            Volatile.Write(ref count, ids.Count);
        }
    }

    /// <summary>Whether task <paramref name="taskId"/> was aborted (and forgets it): asked as its turn comes, before it starts.</summary>
    public bool TryTake(long taskId)
    {
        // Asked for every task: no lock while nothing was aborted.
        if (Volatile.Read(ref count) == 0)
        {
            return false;
        }

        lock (ids)
        {
            var taken = ids.Remove(taskId);
            Volatile.Write(ref count, ids.Count);
            return taken;
        }
    }
}

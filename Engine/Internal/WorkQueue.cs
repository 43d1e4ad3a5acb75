namespace CapCluster.Engine.Internal;

/// <summary>
/// The engine's work, run one item at a time in arrival order. Small work (<paramref name="startsHere"/>) that
/// reaches an idle engine starts on the thread <paramref name="schedule"/> gives it: right after the read, on the
/// thread that read it from a stream lane (no thread hop; the lane hands its reading to another thread if the item
/// runs long). Other work (compiling code takes longer than a hop) starts on the thread pool. An item that has to
/// wait (for a data lane's values) goes on, and the queue with it, on the thread pool.
/// </summary>
/// <typeparam name="T">An item of work.</typeparam>
internal sealed class WorkQueue<T>(Func<T, Task> run, Action<Action> schedule, Func<T, bool> startsHere)
{
    private readonly Queue<T> items = new();
    private bool running;
    private bool completed;
    private TaskCompletionSource? drained;

    /// <summary>Queues <paramref name="item"/>; it starts at once if nothing runs. Ignored once completed.</summary>
    public void Add(T item)
    {
        lock (items)
        {
            if (completed)
            {
                return;
            }

            items.Enqueue(item);
            if (running)
            {
                return;
            }

            running = true;
        }

        if (startsHere(item))
        {
            schedule(Drain);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static queue => queue.Drain(), this, preferLocal: false);
        }
    }

    /// <summary>Drops what waits and takes no more; completes when the item that runs, if any, has ended.</summary>
    public Task CompleteAsync()
    {
        lock (items)
        {
            completed = true;
            items.Clear();
            if (!running)
            {
                return Task.CompletedTask;
            }

            drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return drained.Task;
        }
    }

    private void Drain()
    {
        while (true)
        {
            T item;
            lock (items)
            {
                if (!items.TryDequeue(out item!))
                {
                    running = false;
                    drained?.TrySetResult();
                    return;
                }
            }

            var done = run(item);
            if (!done.IsCompleted)
            {
                _ = done.ContinueWith(static (_, queue) => ((WorkQueue<T>)queue!).Drain(), this, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                return;
            }
        }
    }
}

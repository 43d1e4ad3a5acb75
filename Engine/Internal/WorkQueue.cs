namespace CapCluster.Engine.Internal;

/// <summary>
/// The engine's work, run one item at a time in arrival order. Small work (<paramref name="startsHere"/>) that
/// reaches an idle engine starts where <paramref name="schedule"/> puts it: right after the delivery that brought it,
/// with no thread hop where the transport allows (see <c>ControllerLink.RunAfterDelivery</c>). Other work (compiling
/// code takes longer than a hop) starts on the thread pool. An item that has to wait (for its values) goes on, and
/// the queue with it, on the thread pool.
/// </summary>
/// <typeparam name="T">An item of work.</typeparam>
/// <param name="run">Runs one item.</param>
/// <param name="schedule">Runs an action right after the delivery that brought an item (see above).</param>
/// <param name="startsHere">Whether an item reaching an idle engine starts where <paramref name="schedule"/> puts it.</param>
/// <param name="running">Told true when the queue starts running items after it was idle, false when it runs dry (under the queue's lock: it must be quick).</param>
internal sealed class WorkQueue<T>(Func<T, Task> run, Action<Action> schedule, Func<T, bool> startsHere, Action<bool>? running = null)
{
    private readonly Queue<T> items = new();
    private bool isRunning;
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
            if (isRunning)
            {
                return;
            }

            isRunning = true;
            running?.Invoke(true);
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
            if (!isRunning)
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
            bool dry;
            lock (items)
            {
                dry = !items.TryDequeue(out item!);
                if (dry)
                {
                    isRunning = false;
                    running?.Invoke(false);
                    drained?.TrySetResult();
                }
            }

            if (dry)
            {
                return;
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

namespace CapCluster.Client.Internal;

/// <summary>
/// What waits for this client's results: one small record a task, holding its outcome once it came, and no task object
/// unless someone waits for that one task alone. A barrier over many tasks waits on one countdown they all signal.
/// </summary>
internal sealed partial class TaskSession
{
    /// <summary>The outcomes of <paramref name="taskIds"/>, in order, once every one has finished; the first error when any could not.</summary>
    public async Task<TaskOutcome[]> AllOf(long[] taskIds)
    {
        var waits = Array.ConvertAll(taskIds, Waiter);
        var countdown = new Countdown();
        foreach (var wait in waits)
        {
            wait.Join(countdown);
        }

        await countdown.Armed().ConfigureAwait(false);
        return Array.ConvertAll(waits, w => w.Outcome);
    }

    /// <summary>
    /// One of this client's tasks, marked with the stream (counted from 1) whose task it is: its outcome once it came
    /// (or why it never will), and who waits for it. Waits end where it ends: right after the message that brought the
    /// result, where <c>AsyncStreamReaderExtensions.RunAfterThisMessage</c> puts it, or on a pool thread when it fails.
    /// </summary>
    private sealed class Awaited(int generation)
    {
        // Guarded by its own monitor (a private type): a Lock object for each of 100,000 tasks would double what each holds.
        private object? ending; // its TaskOutcome, or the Exception that ended its wait
        private object? waiting; // null, one TaskCompletionSource<TaskOutcome> or Countdown, or a List<object> of them

        public int Generation { get; } = generation;

        public bool IsCompleted => Volatile.Read(ref ending) is not null;

        /// <summary>Its outcome. Only once it ended: throws the error it ended with.</summary>
        public TaskOutcome Outcome => ending as TaskOutcome ?? throw (Exception)ending!;

        public bool TrySetResult(TaskOutcome outcome) => TryEnd(outcome);

        public bool TrySetException(Exception error) => TryEnd(error);

        /// <summary>A task for this one result: made only for a caller who waits for it alone.</summary>
        public Task<TaskOutcome> AsTask()
        {
            lock (this)
            {
                switch (ending)
                {
                    case TaskOutcome outcome:
                        return Task.FromResult(outcome);
                    case Exception error:
                        return Task.FromException<TaskOutcome>(error);
                }

                var one = new TaskCompletionSource<TaskOutcome>();
                Add(one);
                return one.Task;
            }
        }

        /// <summary>Counts in <paramref name="countdown"/>: signalled now when it has ended, else when it does.</summary>
        public void Join(Countdown countdown)
        {
            lock (this)
            {
                if (ending is null)
                {
                    countdown.Expect();
                    Add(countdown);
                    return;
                }
            }

            countdown.Expect();
            countdown.Signal(ending as Exception);
        }

        private void Add(object waiter) =>
            waiting = waiting switch
            {
                null => waiter,
                List<object> several => Append(several, waiter),
                var single => new List<object> { single, waiter },
            };

        private static List<object> Append(List<object> several, object waiter)
        {
            several.Add(waiter);
            return several;
        }

        private bool TryEnd(object end)
        {
            object? waiters;
            lock (this)
            {
                if (ending is not null)
                {
                    return false;
                }

                Volatile.Write(ref ending, end);
                waiters = waiting;
                waiting = null;
            }

            if (waiters is List<object> several)
            {
                several.ForEach(w => Notify(w, end));
            }
            else if (waiters is not null)
            {
                Notify(waiters, end);
            }

            return true;
        }

        private static void Notify(object waiter, object end)
        {
            switch (waiter)
            {
                case Countdown countdown:
                    countdown.Signal(end as Exception);
                    break;
                case TaskCompletionSource<TaskOutcome> one when end is TaskOutcome outcome:
                    one.TrySetResult(outcome);
                    break;
                case TaskCompletionSource<TaskOutcome> one:
                    one.TrySetException((Exception)end);
                    break;
            }
        }
    }

    /// <summary>
    /// A barrier's wait: completes when every task that joined it has ended (failed with the first error of those that
    /// could not finish), where the last one ended, as a single task's wait does. Held open by its maker until all have
    /// joined (<see cref="Armed"/>).
    /// </summary>
    private sealed class Countdown : TaskCompletionSource
    {
        private int remaining = 1;
        private Exception? firstError;

        public void Expect() => Interlocked.Increment(ref remaining);

        /// <summary>One that joined has ended: finished, or with <paramref name="error"/>.</summary>
        public void Signal(Exception? error)
        {
            if (error is not null)
            {
                Interlocked.CompareExchange(ref firstError, error, null);
            }

            if (Interlocked.Decrement(ref remaining) == 0)
            {
                if (Volatile.Read(ref firstError) is { } first)
                {
                    TrySetException(first);
                }
                else
                {
                    TrySetResult();
                }
            }
        }

        /// <summary>Every task has joined: the wait, which ends when the last of them does.</summary>
        public Task Armed()
        {
            Signal(null);
            return Task;
        }
    }
}

using System.Runtime.ExceptionServices;

namespace CapCluster.Protocol.DataLanes;

/// <summary>
/// A second thread for one large read or write on a lane: runs the steps posted to it one at a time, in order, so
/// that the owner's socket calls overlap with the stage's work (the reader receives record n + 1 while the stage
/// opens record n; the writer seals the next buffer while the stage sends the last). After a step fails, the
/// steps behind it are skipped and the failure is thrown to the owner.
/// </summary>
/// <remarks>
/// A stage is a thread more for the process, worth having only while a core is free for it: at most one per two
/// processors run at once (<see cref="TryStart"/>). Measured on 2 cores: one push or pull with stages at both ends
/// went from 74–85 % to 86–96 % of the TLS ceiling, but a gather, whose two lanes already keep both cores busy,
/// became slower when each of them took a stage as well.
/// </remarks>
internal sealed class LaneStage : IDisposable
{
    private static readonly int MaxRunning = Math.Max(1, Environment.ProcessorCount / 2);
    private static int running;

    private readonly Queue<Action> steps = new();
    private readonly Thread thread;
    private ExceptionDispatchInfo? failure;
    private int unfinished;
    private bool ending;
    private bool counted;

    /// <summary>A stage whatever else runs (tests); lanes use <see cref="TryStart"/>.</summary>
    internal LaneStage(string name)
    {
        thread = new Thread(Run) { IsBackground = true, Name = name };
        thread.Start();
    }

    /// <summary>A new stage, or null when as many are running as the processors allow: the owner then works alone.</summary>
    public static LaneStage? TryStart(string name)
    {
        if (Interlocked.Increment(ref running) > MaxRunning)
        {
            Interlocked.Decrement(ref running);
            return null;
        }

        return new LaneStage(name) { counted = true };
    }

    /// <summary>True once a step has failed; <see cref="Drain"/> throws its exception.</summary>
    public bool Failed => Volatile.Read(ref failure) is not null;

    /// <summary>Queues <paramref name="step"/> behind the others.</summary>
    public void Post(Action step)
    {
        lock (steps)
        {
            steps.Enqueue(step);
            unfinished++;
            Monitor.PulseAll(steps);
        }
    }

    /// <summary>Waits until every posted step has run or been skipped; throws the first failure.</summary>
    public void Drain()
    {
        lock (steps)
        {
            while (unfinished > 0)
            {
                Monitor.Wait(steps);
            }
        }

        failure?.Throw();
    }

    /// <summary>Lets the steps still queued run (or be skipped after a failure) and ends the thread.</summary>
    public void Dispose()
    {
        lock (steps)
        {
            ending = true;
            Monitor.PulseAll(steps);
        }

        thread.Join();
        if (counted)
        {
            Interlocked.Decrement(ref running);
        }
    }

    private void Run()
    {
        while (true)
        {
            Action step;
            lock (steps)
            {
                while (steps.Count == 0 && !ending)
                {
                    Monitor.Wait(steps);
                }

                if (steps.Count == 0)
                {
                    return;
                }

                step = steps.Dequeue();
            }

            if (failure is null)
            {
                try
                {
                    step();
                }
                catch (Exception e)
                {
                    Volatile.Write(ref failure, ExceptionDispatchInfo.Capture(e));
                }
            }

            lock (steps)
            {
                unfinished--;
                Monitor.PulseAll(steps);
            }
        }
    }
}

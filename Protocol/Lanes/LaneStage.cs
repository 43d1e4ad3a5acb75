using System.Runtime.ExceptionServices;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// A second thread for one large read or write on a lane: runs the steps posted to it one at a time, in order, so
/// that the owner's socket calls overlap with the stage's work (the reader receives record n + 1 while the stage
/// opens record n; the writer seals the next buffer while the stage sends the last). After a step fails, the
/// steps behind it are skipped and the failure is thrown to the owner.
/// </summary>
internal sealed class LaneStage : IDisposable
{
    private readonly Queue<Action> steps = new();
    private readonly Thread thread;
    private ExceptionDispatchInfo? failure;
    private int unfinished;
    private bool ending;

    public LaneStage(string name)
    {
        thread = new Thread(Run) { IsBackground = true, Name = name };
        thread.Start();
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

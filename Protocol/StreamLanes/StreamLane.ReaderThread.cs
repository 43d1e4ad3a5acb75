namespace CapCluster.Protocol.StreamLanes;

/// <summary>
/// Work that runs on the reader thread right after a delivery (<see cref="TryRunAfterThisMessage"/>): an engine's
/// next job, a result a client's caller awaits. It saves the thread hop a pool thread would cost, which on a small
/// machine is a good part of a small task's round trip. Such work may run long (an engine's job does); then the
/// lane hands reading over to another thread after <see cref="HandOverAfter"/>, so messages keep coming (a data lane
/// to join, a Stop); the old thread, its work done, waits a while as the spare that the next hand-over wakes, so
/// long jobs one after another do not make a thread each. Posted work runs in the order posted; work posted behind
/// a long one waits for it, as it would in one worker's queue.
/// </summary>
public sealed partial class StreamLane<TSend, TReceive>
{
    /// <summary>How long posted work may hold the reader thread before another thread takes over reading.</summary>
    public static readonly TimeSpan HandOverAfter = TimeSpan.FromMilliseconds(5);

    private readonly Queue<Action> posted = new();
    private readonly Timer handOver;
    private long readerEpoch;
    private int readerThreadId;
    private bool delivering;
    private bool runningPosted;
    private long runningSince;
    private bool spareParked;
    private long spareEpoch = -1;

    // How long a retired reader waits to be the spare before its thread ends.
    private static readonly TimeSpan SpareFor = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public bool TryRunAfterThisMessage(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (posted)
        {
            if (!delivering || Environment.CurrentManagedThreadId != readerThreadId)
            {
                return false;
            }

            posted.Enqueue(action);
            return true;
        }
    }

    private void StartReader(long epoch)
    {
        var thread = new Thread(() =>
        {
            while (true)
            {
                lock (posted)
                {
                    readerThreadId = Environment.CurrentManagedThreadId;
                }

                if (!ReadAll(epoch) || !TryBeSpare(out epoch))
                {
                    return;
                }
            }
        })
        {
            IsBackground = true,
            Name = "stream lane reader",
        };
        thread.Start();
    }

    private bool IsReader(long epoch)
    {
        lock (posted)
        {
            return epoch == readerEpoch;
        }
    }

    /// <summary>Marks the span of a delivery, during which the consumer may post work.</summary>
    private void Delivering(bool value)
    {
        lock (posted)
        {
            delivering = value;
        }
    }

    /// <summary>Runs the posted work; false when, meanwhile, another thread took over reading.</summary>
    private bool RunPosted(long epoch)
    {
        while (true)
        {
            Action next;
            lock (posted)
            {
                if (epoch != readerEpoch)
                {
                    return false;
                }

                if (!posted.TryDequeue(out next!))
                {
                    return true;
                }

                runningPosted = true;
                runningSince = Environment.TickCount64;
            }

            handOver.Change(HandOverAfter, Timeout.InfiniteTimeSpan);
            try
            {
                next();
            }
            finally
            {
                lock (posted)
                {
                    runningPosted = false;
                }
            }

            if (!IsReader(epoch))
            {
                return false;
            }
        }
    }

    /// <summary>Posted work has held the reader thread too long: a new thread reads from now on.</summary>
    private void HandOver()
    {
        long epoch;
        lock (posted)
        {
            if (!runningPosted || Volatile.Read(ref closing) == 1)
            {
                return;
            }

            // The timer was set for an earlier piece of work: this one has not run that long yet.
            var ran = Environment.TickCount64 - runningSince;
            if (ran < (long)HandOverAfter.TotalMilliseconds)
            {
                handOver.Change(TimeSpan.FromMilliseconds((long)HandOverAfter.TotalMilliseconds - ran + 1), Timeout.InfiniteTimeSpan);
                return;
            }

            runningPosted = false;
            epoch = ++readerEpoch;
            readerThreadId = -1;
            if (spareParked && spareEpoch < 0)
            {
                spareEpoch = epoch;
                Monitor.PulseAll(posted);
                return;
            }
        }

        StartReader(epoch);
    }

    /// <summary>A retired reader waits to be woken by the next hand-over; false when none came in time, or the stream ended.</summary>
    private bool TryBeSpare(out long epoch)
    {
        epoch = -1;
        lock (posted)
        {
            if (spareParked || Volatile.Read(ref closing) == 1)
            {
                return false;
            }

            spareParked = true;
            spareEpoch = -1;
            var until = Environment.TickCount64 + (long)SpareFor.TotalMilliseconds;
            while (spareEpoch < 0 && Volatile.Read(ref closing) == 0 && Environment.TickCount64 < until)
            {
                Monitor.Wait(posted, TimeSpan.FromMilliseconds(Math.Max(1, until - Environment.TickCount64)));
            }

            spareParked = false;
            epoch = spareEpoch;
            spareEpoch = -1;
            return epoch >= 0;
        }
    }

    /// <summary>The stream has ended: a parked spare stops waiting.</summary>
    private void WakeSpare()
    {
        lock (posted)
        {
            Monitor.PulseAll(posted);
        }
    }
}

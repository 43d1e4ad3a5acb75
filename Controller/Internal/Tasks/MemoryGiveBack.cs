namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// Gives memory back to the system after a large clear: a million results forgotten leave the garbage collector
/// holding the pages they used until it next needs them, which on a shared machine looks like a leak. An
/// aggressive, compacting collection on a pool thread returns them; at most one every few seconds, and only after
/// clears large enough to be worth it. A large clear that comes sooner is not skipped but waits for its turn, so the
/// last of a burst of clears is always followed by a collection.
/// </summary>
/// <param name="time">The clock the spacing is measured on.</param>
/// <param name="collect">The collection; a compacting, aggressive full one unless a test gives another.</param>
internal sealed class MemoryGiveBack(TimeProvider time, Action? collect = null)
{
    /// <summary>Results forgotten at once from which a clear gives memory back.</summary>
    public const int Threshold = 10_000;

    /// <summary>The least time between two collections.</summary>
    public static readonly TimeSpan Spacing = TimeSpan.FromSeconds(5);

    private readonly Action collect = collect ?? (() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true));
    private readonly Lock gate = new();
    private long? last;
    private bool scheduled;

    /// <summary>After <paramref name="forgotten"/> results were forgotten: collects and decommits, now or once the last collection is <see cref="Spacing"/> old; nothing for a small clear.</summary>
    public void After(int forgotten)
    {
        if (forgotten < Threshold)
        {
            return;
        }

        TimeSpan wait;
        lock (gate)
        {
            if (scheduled)
            {
                return; // the collection to come takes this clear's garbage too
            }

            scheduled = true;
            wait = last is { } at ? Spacing - time.GetElapsedTime(at) : TimeSpan.Zero;
        }

        // With no wait the delay is already complete, and the continuation is still queued to a pool thread (it is not
        // asked to run synchronously): the clear never collects on its caller's thread.
        _ = Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, time)
            .ContinueWith(_ => Collect(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    private void Collect()
    {
        lock (gate)
        {
            // From here a new clear schedules another collection: this one may already have passed its garbage.
            scheduled = false;
            last = time.GetTimestamp();
        }

        collect();
    }
}

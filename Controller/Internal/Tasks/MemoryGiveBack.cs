namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// Gives memory back to the system after a large clear: a million results forgotten leave the garbage collector
/// holding the pages they used until it next needs them, which on a shared machine looks like a leak. An
/// aggressive, compacting collection on a pool thread returns them; at most one every few seconds, and only after
/// clears large enough to be worth it.
/// </summary>
internal static class MemoryGiveBack
{
    /// <summary>Results forgotten at once from which a clear gives memory back.</summary>
    public const int Threshold = 10_000;

    private static readonly TimeSpan Spacing = TimeSpan.FromSeconds(5);
    private static long lastTicks;
    private static int running;

    /// <summary>After <paramref name="forgotten"/> results were forgotten: collects and decommits, unless it ran lately or the clear was small.</summary>
    public static void After(int forgotten)
    {
        var now = Environment.TickCount64;
        if (forgotten < Threshold || now - Interlocked.Read(ref lastTicks) < Spacing.TotalMilliseconds || Interlocked.Exchange(ref running, 1) == 1)
        {
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            try
            {
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }
            finally
            {
                Interlocked.Exchange(ref lastTicks, Environment.TickCount64);
                Interlocked.Exchange(ref running, 0);
            }
        }, null);
    }
}

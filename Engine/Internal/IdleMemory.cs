namespace CapCluster.Engine.Internal;

/// <summary>
/// Gives the managed heap's free pages back to the system once the engine has been idle for <see cref="Quiet"/> after
/// work that allocated a lot. The garbage collector keeps what it committed for values that are gone (a pushed array
/// deleted, a large intermediate result) until it next needs it, which on a shared machine looks like a leak: measured on one
/// engine after three 128 MiB pushes and pulls, the values deleted and collected, RSS stayed at 541 MiB with 13 MiB
/// of heap and 401 MiB committed; a compacting, decommitting collection brought it to 141 MiB, where it was before
/// the transfers.
/// </summary>
/// <remarks>
/// <para>
/// A full collection runs only when at least <see cref="Worthwhile"/> bytes were allocated since the last check, so an
/// idle engine holding its values is not collected again and again; the decommitting (aggressive) one, which also
/// compacts what lives, only when the last collection (this one, or one the user's code ran) left that much committed
/// memory free. At most one check per stretch of idleness.
/// </para>
/// <para>
/// Why ten seconds and not one: pages given back are faulted in again, one per 4 KiB, by the next large value received.
/// With one second, pushes a couple of seconds apart (bench/run transfer: a 1 GiB TLS ceiling between rounds) found
/// the heap decommitted every time: 32,778 page faults and 190 ms of engine CPU per 128 MiB push, 422 MB/s; kept
/// committed, 8 faults, 30 ms, 1,958 MB/s (same sitting, loaded machine). Work that comes back within seconds reuses
/// the pages; memory is still given back when the engine has really gone idle.
/// </para>
/// </remarks>
internal sealed class IdleMemory : IDisposable
{
    /// <summary>Allocated, or committed and free, bytes from which a collection is worth it.</summary>
    public const long Worthwhile = 64L << 20;

    /// <summary>How long the engine stays without work before it gives memory back.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromSeconds(10);

    private readonly ITimer timer;
    private long allocatedAtLast = GC.GetTotalAllocatedBytes();

    public IdleMemory(TimeProvider time) => timer = time.CreateTimer(static state => ((IdleMemory)state!).OnQuiet(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    /// <summary>
    /// The engine has work (<paramref name="running"/>): no collection starts meanwhile; or it ran out of work: memory
    /// may be given back if it stays idle for <see cref="Quiet"/>.
    /// </summary>
    public void Running(bool running) => timer.Change(running ? Timeout.InfiniteTimeSpan : Quiet, Timeout.InfiniteTimeSpan);

    public void Dispose() => timer.Dispose();

    private void OnQuiet()
    {
        // The last collection's view, whoever ran it (user code often collects after deleting its values).
        var info = GC.GetGCMemoryInfo();
        if (GC.GetTotalAllocatedBytes() - Interlocked.Read(ref allocatedAtLast) >= Worthwhile)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
            info = GC.GetGCMemoryInfo();
        }

        if (info.TotalCommittedBytes - info.HeapSizeBytes >= Worthwhile)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }

        Interlocked.Exchange(ref allocatedAtLast, GC.GetTotalAllocatedBytes());
    }
}

using System.Runtime.InteropServices;

namespace CapCluster.Engine.Internal;

/// <summary>
/// Gives the engine's free C heap back to the system. Compiling a submission allocates native memory (the JIT, the
/// type loader) on whichever pool thread runs it, and glibc keeps what is freed in that thread's arena: when old
/// submissions unload, their memory stays in the engine's RSS. Measured on 2 engines after 10,000 executes: RSS had
/// grown from 132 MiB (after 100) to 241–269 MiB, and malloc_trim(0) gave back about 50 MiB of it. (Limiting the
/// arenas with mallopt from Main does not help: the runtime's own threads have made theirs by then.)
/// </summary>
internal static partial class NativeHeap
{
    /// <summary>Trims every arena on a pool thread (mallocs meanwhile wait only for the arena being trimmed); nothing happens on another C library.</summary>
    public static void TrimSoon()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(
            static _ =>
            {
                try
                {
                    _ = MallocTrim(0);
                }
                catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
                {
                    // Not glibc: nothing to trim this way (and no exception may leave a pool thread).
                }
            },
            null);
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}

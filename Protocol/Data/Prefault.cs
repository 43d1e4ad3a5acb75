using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CapCluster.Protocol.Data;

/// <summary>
/// Maps a large, freshly allocated array's pages before the bytes written into it need them. A received or joined
/// 128 MiB value otherwise takes 32,768 page faults on first touch, one per 4 KiB page, each paid by the thread that
/// writes the bytes; on this project's VM a fault costs 10 to 20 µs, more than the copy of its page.
/// <list type="bullet">
/// <item><see cref="Start"/> maps a received value's pages on another thread, ahead of the reader, with
/// madvise(MADV_POPULATE_WRITE): it does not change the bytes, so the reader may overtake it.</item>
/// <item><see cref="HugePages"/> asks for 2 MiB pages for the stretch being written, so that one fault maps 512 pages.
/// The advice is withdrawn once the array is written: the collector's later reuse of that memory is not backed by huge
/// pages it did not ask for (with MADV_HUGEPAGE left on, khugepaged could fill a sparse 2 MiB stretch of the heap).</item>
/// </list>
/// All of it is advice: pages already mapped are skipped, and where a call is unknown or refused nothing changes.
/// </summary>
internal static partial class Prefault
{
    /// <summary>Spans shorter than this are left alone: the writer is done before the help would arrive.</summary>
    public const int Minimum = 8 * 1024 * 1024;

    private const int HugePageSize = 2 * 1024 * 1024;
    private const int HugePage = 14;      // MADV_HUGEPAGE
    private const int NoHugePage = 15;    // MADV_NOHUGEPAGE: under the usual "madvise" setting, what memory had before
    private const int PopulateWrite = 23; // MADV_POPULATE_WRITE, Linux 5.14

    /// <summary>Starts mapping <paramref name="memory"/>'s pages on the thread pool; the memory stays pinned until done.</summary>
    public static void Start(Memory<byte> memory)
    {
        if (memory.Length < Minimum || !OperatingSystem.IsLinux())
        {
            return;
        }

        var pin = memory.Pin();
        ThreadPool.UnsafeQueueUserWorkItem(
            static state =>
            {
                var (pin, length) = state;
                unsafe
                {
                    var start = (nint)pin.Pointer & ~(nint)4095;
                    var end = (nint)pin.Pointer + length;
                    using (new HugePages((nint)pin.Pointer, length))
                    {
                        _ = Madvise(start, (nuint)(end - start), PopulateWrite);
                    }
                }

                pin.Dispose();
            },
            (pin, memory.Length),
            preferLocal: false);
    }

    /// <summary>
    /// The 2 MiB pages asked for the whole 2 MiB stretches of <paramref name="array"/>'s elements, about to be written
    /// in full, until disposed. An array of <see cref="Minimum"/> bytes or more lives in the large object heap, which
    /// does not move it unless asked to compact; if it moved all the same, the advice fell on memory the writer no
    /// longer touches, and changes nothing.
    /// </summary>
    public static HugePages For(Array array, long byteLength)
    {
        if (byteLength < Minimum || !OperatingSystem.IsLinux())
        {
            return default;
        }

        unsafe
        {
            return new HugePages((nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)), byteLength);
        }
    }

    /// <summary>MADV_HUGEPAGE on the whole 2 MiB stretches of a span while it lives; disposing withdraws it.</summary>
    public readonly struct HugePages : IDisposable
    {
        private readonly nint start;
        private readonly nuint length;

        public HugePages(nint address, long byteLength)
        {
            start = (address + HugePageSize - 1) & ~(nint)(HugePageSize - 1);
            var end = (address + (nint)byteLength) & ~(nint)(HugePageSize - 1);
            if (end > start && Madvise(start, (nuint)(end - start), HugePage) == 0)
            {
                length = (nuint)(end - start);
            }
        }

        public void Dispose()
        {
            if (length > 0)
            {
                _ = Madvise(start, length, NoHugePage);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}

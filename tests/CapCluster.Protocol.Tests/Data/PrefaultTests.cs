using System.Globalization;
using System.Runtime.InteropServices;
using CapCluster.Protocol.Data;

namespace CapCluster.Protocol.Tests.Data;

/// <summary>
/// A large array being written is backed by 2 MiB pages while it is written, and only then: the kernel's own account
/// of the mapping (/proc/self/smaps) says so.
/// </summary>
public sealed class PrefaultTests
{
    [HugePagesFact]
    public void ALargeArray_IsEligibleForHugePagesWhileWritten_AndNotAfter()
    {
        const int length = 32 * 1024 * 1024;
        var array = GC.AllocateUninitializedArray<byte>(length, pinned: true);
        var inside = (ArrayAddress(array) + 4 * 1024 * 1024) & ~(nint)(2 * 1024 * 1024 - 1);
        // The advice only shapes pages still to be faulted in, and the collector reuses freed pinned memory that is still
        // mapped (a 32 MiB array allocated again where one was freed had every page in memory). So the test first gives
        // the array's whole 2 MiB stretches back (MADV_DONTNEED: anonymous memory reads as zeros after), as fresh memory is.
        var first = (ArrayAddress(array) + 2 * 1024 * 1024 - 1) & ~(nint)(2 * 1024 * 1024 - 1);
        var end = (ArrayAddress(array) + length) & ~(nint)(2 * 1024 * 1024 - 1);
        Assert.Equal(0, madvise(first, (nuint)(end - first), 4));
        Assert.Equal(0, ResidentPages(inside, 2 * 1024 * 1024));
        var fallbacksBefore = VmStat("thp_fault_fallback");

        using (Prefault.For(array, length))
        {
            Assert.Equal(1, Mapping(inside)["THPeligible"]);
            for (var i = 0; i < length; i++)
            {
                array[i] = (byte)(i * 7);
            }
        }

        var after = Mapping(inside);
        Assert.Equal(0, after["THPeligible"]);
        // The pages written stay huge (or the kernel counted that it had none to give).
        Assert.True(after["AnonHugePages"] > 0 || VmStat("thp_fault_fallback") > fallbacksBefore, $"AnonHugePages {after["AnonHugePages"]} kB");
        for (var i = 0; i < length; i += 4093)
        {
            Assert.Equal((byte)(i * 7), array[i]);
        }

        GC.KeepAlive(array);
    }

    [HugePagesFact]
    public void ASmallArray_IsLeftAlone()
    {
        var array = GC.AllocateUninitializedArray<byte>(Prefault.Minimum - 1, pinned: true);
        using (Prefault.For(array, array.Length))
        {
            Assert.Equal(0, Mapping(ArrayAddress(array))["THPeligible"]);
        }
    }

    /// <summary>Runs on Linux with transparent huge pages not turned off.</summary>
    private sealed class HugePagesFactAttribute : FactAttribute
    {
        public HugePagesFactAttribute()
        {
            const string setting = "/sys/kernel/mm/transparent_hugepage/enabled";
            if (!OperatingSystem.IsLinux() || !File.Exists(setting) || File.ReadAllText(setting).Contains("[never]", StringComparison.Ordinal))
            {
                Skip = $"transparent huge pages are off on this machine ({setting})";
            }
        }
    }

    // The arrays are allocated pinned, on the pinned object heap: their address holds.
    private static nint ArrayAddress(byte[] array) => Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);

    /// <summary>The numeric fields of the smaps entry of the mapping that holds <paramref name="address"/> (sizes in kB).</summary>
    private static Dictionary<string, long> Mapping(nint address)
    {
        var fields = new Dictionary<string, long>(StringComparer.Ordinal);
        var inMapping = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var dash = line.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && (colon < 0 || dash < colon) && line.IndexOf(' ', StringComparison.Ordinal) > dash)
            {
                if (inMapping)
                {
                    break;
                }

                var range = line[..line.IndexOf(' ', StringComparison.Ordinal)].Split('-');
                var start = long.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                var end = long.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                inMapping = start <= address && address < end;
                continue;
            }

            if (inMapping && colon > 0 && long.TryParse(line[(colon + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture, out var value))
            {
                fields[line[..colon]] = value;
            }
        }

        return inMapping ? fields : throw new InvalidOperationException($"no mapping holds 0x{address:x}");
    }

    /// <summary>How many of the 4 KiB pages of [<paramref name="address"/>, +<paramref name="length"/>) are in memory (mincore).</summary>
    private static int ResidentPages(nint address, int length)
    {
        var pages = new byte[length / 4096];
        if (mincore(address, (nuint)length, pages) != 0)
        {
            throw new InvalidOperationException($"mincore failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return pages.Count(p => (p & 1) != 0);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int mincore(nint address, nuint length, byte[] pages);

    [DllImport("libc", SetLastError = true)]
    private static extern int madvise(nint address, nuint length, int advice);

    private static long VmStat(string name) =>
        File.ReadLines("/proc/vmstat").Select(l => l.Split(' ')).Where(p => p[0] == name).Select(p => long.Parse(p[1], CultureInfo.InvariantCulture)).DefaultIfEmpty(0).First();
}

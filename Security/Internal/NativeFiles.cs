using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CapCluster.Security.Internal;

/// <summary>
/// The few kernel calls the audit log and capability files need that .NET does not expose: a file's identity (device and
/// inode, so a swapped file is told apart from the one written), its type (a pipe is not read as a file), a read that bypasses FileStream's advisory lock (to name the
/// holder of a lock file), and the caller's uid (admin records name who acted).
/// </summary>
internal static partial class NativeFiles
{
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const uint StatxInode = 0x100;
    private const int ReadOnly = 0;
    private const int CloseOnExec = 0x80000;

    /// <summary>"major:minor:inode" of <paramref name="path"/>, or null when it cannot be had (no such file, not Linux).</summary>
    public static string? FileId(string path)
    {
        if (Stat(path, StatxInode) is not { } buffer)
            return null;
        var inode = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(32));
        var major = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(136));
        var minor = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(140));
        return $"{major}:{minor}:{inode}";
    }

    /// <summary>What <paramref name="path"/> is when it is not a regular file ("a named pipe (FIFO)"); null when it is one, or cannot be told (no such file, not Linux).</summary>
    public static string? NotRegular(string path)
    {
        if (Stat(path, StatxType) is not { } buffer)
            return null;
        return (BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(28)) & 0xF000) switch
        {
            0x8000 => null,
            0x4000 => "a folder",
            0x1000 => "a named pipe (FIFO)",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => "not a regular file",
        };
    }

    // struct statx is 256 bytes with the same layout on every architecture; symbolic links are followed, as open does.
    private static byte[]? Stat(string path, uint mask)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        var buffer = new byte[256];
        return Statx(AtFdCwd, path, 0, mask, buffer) == 0 ? buffer : null;
    }

    /// <summary>The text of a small file, read without taking the advisory lock FileStream would take (and fail on).</summary>
    public static string? ReadUnlocked(string path, int maxBytes)
    {
        if (OperatingSystem.IsWindows())
            return null;
        var descriptor = Open(path, ReadOnly | CloseOnExec);
        if (descriptor < 0)
            return null;
        using var stream = new FileStream(new SafeFileHandle(descriptor, ownsHandle: true), FileAccess.Read, bufferSize: 0);
        var buffer = new byte[maxBytes];
        var read = stream.ReadAtLeast(buffer, maxBytes, throwOnEndOfStream: false);
        return System.Text.Encoding.UTF8.GetString(buffer, 0, read);
    }

    /// <summary>The real uid of this process (-1 on Windows).</summary>
    public static long Uid() => OperatingSystem.IsWindows() ? -1 : GetUid();

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int directory, string path, int flags, uint mask, [Out] byte[] buffer);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "getuid")]
    private static partial uint GetUid();
}

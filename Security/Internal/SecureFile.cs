using System.Text;

namespace CapCluster.Security.Internal;

/// <summary>
/// Writes files that hold secrets. They are created 0600 in the same system call that creates them:
/// writing first and chmod'ing afterwards leaves a window in which others can read the secret.
/// </summary>
internal static class SecureFile
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static FileStreamOptions CreateOptions(FileMode mode, FileShare share = FileShare.None)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = share };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = OwnerOnly;
        return options;
    }

    /// <summary>Replaces <paramref name="path"/> atomically: a 0600 temp file in the same folder, fsync, rename.</summary>
    public static void WriteAtomic(string path, string content)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Base32.Random(5)}.tmp");
        try
        {
            using (var stream = new FileStream(temp, CreateOptions(FileMode.CreateNew)))
            {
                stream.Write(Encoding.UTF8.GetBytes(content));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Permission bits that let the group or others at a file.</summary>
    public const UnixFileMode SharedModes = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>The mode of <paramref name="path"/> when users other than the owner may read or write it; null otherwise (and on Windows, which has no such modes).</summary>
    public static UnixFileMode? SharedMode(string path) =>
        !OperatingSystem.IsWindows() && File.GetUnixFileMode(path) is var mode && (mode & SharedModes) != 0 ? mode : null;

    public static void CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(path);
        else
            Directory.CreateDirectory(path, OwnerOnlyFolder);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

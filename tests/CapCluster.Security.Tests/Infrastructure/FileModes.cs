namespace CapCluster.Security.Tests.Infrastructure;

public static class FileModes
{
    public const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode OwnerAll = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The file's Unix mode; on Windows (no modes) the expected value, so the assertion is vacuous there.</summary>
    public static UnixFileMode Of(string path, UnixFileMode expectedOnWindows) =>
        OperatingSystem.IsWindows() ? expectedOnWindows : File.GetUnixFileMode(path);
}

namespace CapCluster.Hosting;

/// <summary>
/// The one line a tool prints when a file or folder it needs cannot be read or written (a read-only or full disk, a
/// folder of another user), instead of a stack trace: what failed, where, and what to do.
/// </summary>
public static class FolderErrors
{
    /// <summary>True for the errors of files and folders (not those of sockets, which say what they are themselves).</summary>
    public static bool IsFolderError(Exception e) =>
        e is UnauthorizedAccessException or DirectoryNotFoundException or FileNotFoundException or PathTooLongException
        || (e.GetType() == typeof(IOException));

    /// <summary>The exception's own message (it names the path) and the fix.</summary>
    public static string Describe(Exception e) =>
        $"{e.Message.TrimEnd('.', ' ')}. Check that the folder exists, that this user may write it and that its disk is not full " +
        "(--security-folder, --log-folder or --profile choose other folders).";
}

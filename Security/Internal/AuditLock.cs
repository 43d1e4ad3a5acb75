using System.Globalization;
using System.Text;

namespace CapCluster.Security.Internal;

/// <summary>
/// The one-writer rule of an audit log folder: <c>audit.lock</c> held with an exclusive advisory lock (flock, taken by
/// FileStream for <see cref="FileShare.None"/>) for as long as the writer lives, with the writer's pid inside so that a
/// refused second writer can name it. The kernel drops the lock when the process dies, so a stale file never blocks.
/// </summary>
internal sealed class AuditLock : IDisposable
{
    public const string FileName = "audit.lock";

    private readonly FileStream stream;

    private AuditLock(FileStream stream) => this.stream = stream;

    /// <summary>Takes the lock of <paramref name="logFolder"/>, or returns null with the holder's pid when another process has it.</summary>
    public static AuditLock? TryTake(string logFolder, out int? holderPid)
    {
        var path = Path.Combine(logFolder, FileName);
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = SecureFile.OwnerOnly;
        FileStream stream;
        try
        {
            stream = new FileStream(path, options);
        }
        catch (IOException) when (File.Exists(path))
        {
            var text = NativeFiles.ReadUnlocked(path, 32);
            holderPid = int.TryParse(text?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
            return null;
        }

        stream.SetLength(0);
        stream.Write(Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"));
        stream.Flush();
        holderPid = null;
        return new AuditLock(stream);
    }

    public void Dispose() => stream.Dispose();
}

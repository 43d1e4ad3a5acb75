using System.Text;
using Microsoft.Win32.SafeHandles;

namespace CapCluster.Engine.Internal;

/// <summary>
/// <c>--notify-fd</c>: the pipe through which the process that started the engine (<c>capcluster start</c>) learns that
/// it registered, without a connection of its own to the controller. Opened at start, so that a bad descriptor is an
/// error at once; written once, with the engine's id, and closed.
/// </summary>
internal sealed class RegistrationNotice : IDisposable
{
    private readonly FileStream pipe;

    private RegistrationNotice(FileStream pipe) => this.pipe = pipe;

    /// <exception cref="CapClusterException"><paramref name="fd"/> is not open for writing.</exception>
    public static RegistrationNotice Open(int fd)
    {
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                _ = File.GetUnixFileMode(handle);   // fstat: a descriptor that is not open fails here, not at the first write
            }

            return new RegistrationNotice(new FileStream(handle, FileAccess.Write, bufferSize: 0));
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            handle.Dispose();
            throw new CapClusterException($"--notify-fd {fd} is not a descriptor open for writing ({e.Message})");
        }
    }

    /// <summary>Sends the id once <paramref name="registered"/> completes with it, while the engine runs (see <see cref="SendAsync"/>).</summary>
    public void SendWhen(Task<int> registered) => _ = SendAsync(registered);

    /// <summary>Writes the id <paramref name="registered"/> completes with, and closes the pipe.</summary>
    public async Task SendAsync(Task<int> registered)
    {
        var id = await registered.ConfigureAwait(false);
        try
        {
            await pipe.WriteAsync(Encoding.ASCII.GetBytes(FormattableString.Invariant($"{id}\n"))).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // Whoever started the engine has gone (a closed pipe): there is nobody left to tell.
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose() => pipe.Dispose();
}

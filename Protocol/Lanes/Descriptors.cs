using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// fcntl(2) on a socket's or pipe's descriptor, for the lane code that calls the kernel directly (the controller's
/// splice, a socket handed over between processes), who is at the other end of a local socket, and whether that
/// end has hung up (poll(2)).
/// </summary>
public static partial class Descriptors
{
    private const int GetFlags = 3;
    private const int SetFlags = 4;
    private const int NonBlocking = 0x800;

    /// <summary>
    /// Puts <paramref name="descriptor"/> in blocking mode; false (with the error in the last P/Invoke error) when it
    /// cannot be. A socket the runtime used asynchronously is non-blocking, and the mode belongs to the open file, so
    /// it is shared with every process that holds the socket.
    /// </summary>
    public static bool TrySetBlocking(int descriptor)
    {
        var flags = Fcntl(descriptor, GetFlags, 0);
        return flags >= 0 && ((flags & NonBlocking) == 0 || Fcntl(descriptor, SetFlags, flags & ~NonBlocking) >= 0);
    }

    /// <summary>This process's effective user id (geteuid(2)), which a local socket's peer credentials are compared with.</summary>
    public static uint EffectiveUserId => GetEffectiveUserId();

    /// <summary>
    /// The process at the other end of a connected Unix socket, as the kernel recorded it when the connection was
    /// made (SO_PEERCRED): the peer cannot choose what it says. Null when the kernel cannot tell (not a Unix socket).
    /// </summary>
    public static (int Pid, uint Uid)? PeerCredentials(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        const int solSocket = 1, peerCredentials = 17;
        Span<byte> credentials = stackalloc byte[12]; // struct ucred: pid, uid, gid
        try
        {
            return socket.GetRawSocketOption(solSocket, peerCredentials, credentials) == credentials.Length
                ? (BitConverter.ToInt32(credentials), BitConverter.ToUInt32(credentials[4..]))
                : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether the other end of <paramref name="socket"/> has closed it, or it broke, as far as this host's kernel
    /// knows now (poll(2) for POLLRDHUP, not waiting), even while data the peer sent before waits to be read.
    /// False for a socket closed on this side.
    /// </summary>
    public static bool PeerHasClosed(Socket socket) => PollHangUp(socket, timeoutMilliseconds: 0);

    /// <summary>
    /// Blocks until the other end of <paramref name="socket"/> closes it or it breaks (poll(2) for POLLRDHUP alone: data
    /// arriving never wakes it, so whoever reads the connection, in this process or another, reads it undisturbed).
    /// Returns at once for a socket closed on this side.
    /// </summary>
    public static void WaitUntilPeerCloses(Socket socket) => PollHangUp(socket, timeoutMilliseconds: -1);

    /// <summary>
    /// <paramref name="socket"/>'s descriptor, for a system call made here directly, held open until the hold is
    /// disposed. A close on another thread then waits for it (the runtime shuts the socket down to end a call blocked
    /// on it) instead of freeing the number at once, which the next descriptor opened in this process could get while
    /// the call, or the next one of a loop, still uses it on another connection.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket is closed.</exception>
    public static HeldDescriptor Hold(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var handle = socket.SafeHandle;
        var held = false;
        handle.DangerousAddRef(ref held);
        return new HeldDescriptor(handle, (int)handle.DangerousGetHandle());
    }

    private static unsafe bool PollHangUp(Socket socket, int timeoutMilliseconds)
    {
        const short error = 0x8, hangUp = 0x10, readHangUp = 0x2000;
        const int interrupted = 4;
        HeldDescriptor descriptor;
        try
        {
            descriptor = Hold(socket);
        }
        catch (ObjectDisposedException)
        {
            // Closed on this side: whatever the caller does next says so.
            return false;
        }

        using (descriptor)
        {
            var poll = new PollDescriptor { Descriptor = descriptor.Value, Events = readHangUp };
            int ready;
            while ((ready = Poll(&poll, 1, timeoutMilliseconds)) < 0 && Marshal.GetLastPInvokeError() == interrupted)
            {
            }

            return ready == 1 && (poll.Returned & (error | hangUp | readHangUp)) != 0;
        }
    }

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int Poll(PollDescriptor* descriptors, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int descriptor, int command, int argument);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        public int Descriptor;
        public short Events;
        public short Returned;
    }
}

/// <summary>A socket's descriptor held open (see <see cref="Descriptors.Hold"/>); dispose it once, when the system calls are done.</summary>
public readonly struct HeldDescriptor : IDisposable
{
    private readonly SafeHandle handle;

    internal HeldDescriptor(SafeHandle handle, int value)
    {
        this.handle = handle;
        Value = value;
    }

    /// <summary>The descriptor's number.</summary>
    public int Value { get; }

    public void Dispose() => handle?.DangerousRelease();
}

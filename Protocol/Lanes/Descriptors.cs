using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// fcntl(2) on a socket's or pipe's descriptor, for the lane code that calls the kernel directly (the controller's
/// splice, a socket handed over between processes), and who is at the other end of a local socket.
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

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int descriptor, int command, int argument);
}

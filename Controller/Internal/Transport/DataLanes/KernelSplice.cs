using System.Net.Sockets;
using System.Runtime.InteropServices;
using CapCluster.Protocol.Lanes;

namespace CapCluster.Controller.Internal.Transport.DataLanes;

/// <summary>
/// Linux splice(2): moves a socket's bytes to another socket through a pipe inside the kernel,
/// so a lane's data is never copied into the controller's memory. Each direction runs on its
/// own thread, blocked in the kernel until data comes; shutting the sockets down wakes it.
/// </summary>
internal static partial class KernelSplice
{
    // SPLICE_F_MORE is not used: like MSG_MORE it holds back a partial segment for up to 200 ms, which stalls
    // a TLS handshake flight or a frame's last record.
    private const int SpliceMove = 1;
    private const int SetPipeSize = 1031;
    private const int Interrupted = 4;
    private const int PipeBytes = 1 << 20;

    public static bool IsAvailable => OperatingSystem.IsLinux();

    /// <summary>Moves bytes from <paramref name="from"/> to <paramref name="to"/> until <paramref name="from"/> ends; then half-closes <paramref name="to"/>.</summary>
    /// <exception cref="IOException">A system call failed (the connection broke or was shut down).</exception>
    /// <exception cref="ObjectDisposedException">A socket was closed before the pump began.</exception>
    public static void Pump(Socket from, Socket to)
    {
        // Held for the whole pump: a socket closed meanwhile is shut down, which ends it, and its number is not
        // given to another connection while the loop still splices with it.
        using var source = Descriptors.Hold(from);
        using var target = Descriptors.Hold(to);
        Span<int> pipe = stackalloc int[2];
        if (Pipe2(ref MemoryMarshal.GetReference(pipe), 0) != 0)
        {
            throw Failure("pipe2");
        }

        try
        {
            _ = Descriptors.Fcntl(pipe[1], SetPipeSize, PipeBytes); // a larger pipe means fewer calls; the default 64 KiB still works
            SetBlocking(source.Value);
            SetBlocking(target.Value);
            while (true)
            {
                var moved = Splice(source.Value, 0, pipe[1], 0, PipeBytes, SpliceMove);
                if (moved == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                if (moved < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Interrupted)
                    {
                        continue;
                    }

                    throw Failure("splice from the socket");
                }

                while (moved > 0)
                {
                    var sent = Splice(pipe[0], 0, target.Value, 0, (nuint)moved, SpliceMove);
                    if (sent < 0 && Marshal.GetLastPInvokeError() == Interrupted)
                    {
                        continue;
                    }

                    if (sent <= 0)
                    {
                        throw Failure("splice to the socket");
                    }

                    moved -= sent;
                }
            }
        }
        finally
        {
            _ = Close(pipe[0]);
            _ = Close(pipe[1]);
        }
    }

    // The accepted sockets were used asynchronously (non-blocking); these threads block in the kernel instead.
    private static void SetBlocking(int fd)
    {
        if (!Descriptors.TrySetBlocking(fd))
        {
            throw Failure("fcntl");
        }
    }

    private static IOException Failure(string call) =>
        new($"{call} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(ref int fds, int flags);

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    private static partial nint Splice(int fdIn, nint offIn, int fdOut, nint offOut, nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

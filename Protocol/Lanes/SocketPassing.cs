using System.Net.Sockets;
using System.Runtime.InteropServices;
using CapCluster.Protocol.Internal;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// Hands a connected socket from one process to another over a Unix socket (sendmsg(2) with SCM_RIGHTS), with
/// one byte beside it. The controller uses it to give a local engine the client's end of a data lane, so the
/// lane's bytes go from client to engine without a second TCP hop through the controller.
/// </summary>
public static unsafe partial class SocketPassing
{
    private const int SolSocket = 1;
    private const int ScmRights = 1;
    private const int NoSignal = 0x4000;
    private const int CloseOnExec = 0x40000000; // MSG_CMSG_CLOEXEC: a child the engine starts does not inherit the lane
    private const int Interrupted = 4;

    // cmsghdr (length, level, type) on 64-bit Linux, then one int, padded to 8 bytes.
    private const int HeaderSize = 16;
    private const int ControlSize = HeaderSize + 8;

    /// <summary>True where sockets can be handed over: 64-bit Linux.</summary>
    public static bool IsAvailable => OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    /// <summary>Sends <paramref name="answer"/> with a duplicate of <paramref name="passed"/>'s descriptor; the caller keeps its own.</summary>
    /// <exception cref="IOException">The Unix socket failed or closed.</exception>
    /// <exception cref="ObjectDisposedException">Either socket was closed here.</exception>
    public static void Send(Socket unix, byte answer, Socket passed)
    {
        var control = stackalloc byte[ControlSize];
        new Span<byte>(control, ControlSize).Clear();
        *(nuint*)control = HeaderSize + sizeof(int);
        *(int*)(control + 8) = SolSocket;
        *(int*)(control + 12) = ScmRights;
        using var handed = Descriptors.Hold(passed);
        using var through = Descriptors.Hold(unix);
        *(int*)(control + HeaderSize) = handed.Value;
        var io = new IoVector { Base = &answer, Length = 1 };
        var message = new MessageHeader { Io = &io, IoLength = 1, Control = control, ControlLength = ControlSize };
        nint sent;
        do
        {
            sent = SendMessage(through.Value, &message, NoSignal);
        }
        while (sent < 0 && Marshal.GetLastPInvokeError() == Interrupted);

        if (sent != 1)
        {
            throw new IOException($"handing the socket over failed: {LastError(sent)}");
        }
    }

    /// <summary>
    /// Receives the byte <see cref="Send"/> sent and the socket that came with it (null if none did). The socket
    /// is in blocking mode, like every lane socket.
    /// </summary>
    /// <exception cref="IOException">The Unix socket failed, or closed before the byte came.</exception>
    /// <exception cref="ObjectDisposedException">The Unix socket was closed here.</exception>
    public static Socket? Receive(Socket unix, out byte answer)
    {
        var control = stackalloc byte[ControlSize];
        byte received = 0;
        var io = new IoVector { Base = &received, Length = 1 };
        var message = new MessageHeader { Io = &io, IoLength = 1, Control = control, ControlLength = ControlSize };
        using var through = Descriptors.Hold(unix);
        nint read;
        do
        {
            read = ReceiveMessage(through.Value, &message, CloseOnExec);
        }
        while (read < 0 && Marshal.GetLastPInvokeError() == Interrupted);

        if (read != 1)
        {
            throw new IOException(read == 0 ? "the controller closed the local connection without an answer" : $"receiving the handed-over socket failed: {LastError(read)}");
        }

        answer = received;
        if (message.ControlLength < HeaderSize + sizeof(int) || *(int*)(control + 8) != SolSocket || *(int*)(control + 12) != ScmRights)
        {
            return null;
        }

        var descriptor = *(int*)(control + HeaderSize);
        var handle = new SafeSocketHandle(descriptor, ownsHandle: true);
        if (!Descriptors.TrySetBlocking(descriptor))
        {
            handle.Dispose();
            throw new IOException($"the handed-over socket cannot be used: {LastError(-1)}");
        }

        return new Socket(handle);
    }

    private static string LastError(nint result) =>
        result < 0 ? Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()) : $"{result} bytes instead of 1";

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    // struct msghdr on 64-bit Linux; sequential layout pads the 4-byte name length and flags as C does.
    [StructLayout(LayoutKind.Sequential)]
    private struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Io;
        public nuint IoLength;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMessage(int socket, MessageHeader* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint ReceiveMessage(int socket, MessageHeader* message, int flags);
}

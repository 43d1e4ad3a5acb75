using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// Writes to a socket without ever blocking the writer: what the kernel takes at once goes at once (send(2) with
/// MSG_DONTWAIT); the rest waits, in order, for a sender thread of its own that sends it with blocking calls.
/// Stream lanes write on whatever thread produced the message, often one that reads another connection (an engine's
/// result is forwarded by the thread that read it): a peer that stops reading must not stall that thread, only its
/// own stream. Past <see cref="MaxWaiting"/> bytes the peer is taken to be gone and writes fail.
/// </summary>
internal sealed partial class LaneSender(Socket socket, string name) : IDisposable
{
    /// <summary>Bytes that may wait for a peer that does not read, before writes fail.</summary>
    public const long MaxWaiting = 256L * 1024 * 1024;

    private const int DontWait = 0x40;
    private const int NoSignal = 0x4000;
    private const int WouldBlock = 11;
    private const int Interrupted = 4;

    private readonly Queue<byte[]> waiting = new();
    private long waitingBytes;
    private Thread? sender;
    private Exception? failure;
    private bool disposed;

    /// <summary>Sends <paramref name="bytes"/>, or queues what the socket cannot take now.</summary>
    /// <exception cref="IOException">The connection failed, or the peer has left <see cref="MaxWaiting"/> bytes unread.</exception>
    /// <exception cref="ObjectDisposedException">The sender or its socket was closed.</exception>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        lock (waiting)
        {
            if (failure is not null)
            {
                throw new IOException(failure.Message, failure);
            }

            // The socket is closed, or about to be: its number may be another connection's by now.
            ObjectDisposedException.ThrowIf(disposed, this);
            if (waiting.Count == 0)
            {
                bytes = bytes[SendNow(bytes)..];
                if (bytes.IsEmpty)
                {
                    return;
                }
            }

            if (waitingBytes + bytes.Length > MaxWaiting)
            {
                failure = new IOException($"{name}: the other end has not read {waitingBytes + bytes.Length} bytes (at most {MaxWaiting} may wait)");
                socket.Dispose();
                throw failure;
            }

            waiting.Enqueue(bytes.ToArray());
            waitingBytes += bytes.Length;
            if (sender is null)
            {
                sender = new Thread(SendWaiting) { IsBackground = true, Name = "lane sender" };
                sender.Start();
            }
            else
            {
                Monitor.Pulse(waiting);
            }
        }
    }

    public void Dispose()
    {
        lock (waiting)
        {
            disposed = true;
            Monitor.Pulse(waiting);
        }
    }

    /// <summary>How many bytes of <paramref name="bytes"/> the kernel took without waiting.</summary>
    /// <exception cref="ObjectDisposedException">The socket was closed.</exception>
    private unsafe int SendNow(ReadOnlySpan<byte> bytes)
    {
        using var descriptor = Descriptors.Hold(socket);
        var fd = descriptor.Value;
        var sent = 0;
        fixed (byte* start = bytes)
        {
            while (sent < bytes.Length)
            {
                var n = Send(fd, start + sent, (nuint)(bytes.Length - sent), DontWait | NoSignal);
                if (n >= 0)
                {
                    sent += (int)n;
                    continue;
                }

                var error = Marshal.GetLastPInvokeError();
                if (error == WouldBlock)
                {
                    return sent;
                }

                if (error != Interrupted)
                {
                    throw new IOException($"{name}: send failed ({new SocketException(error).Message})");
                }
            }
        }

        return sent;
    }

    /// <summary>The sender thread: sends the waiting bytes in order with blocking calls, then waits for more.</summary>
    private void SendWaiting()
    {
        while (true)
        {
            byte[] next;
            lock (waiting)
            {
                while (waiting.Count == 0 && !disposed)
                {
                    Monitor.Wait(waiting);
                }

                if (disposed || failure is not null)
                {
                    return;
                }

                next = waiting.Peek();
            }

            try
            {
                var sent = 0;
                while (sent < next.Length)
                {
                    sent += socket.Send(next.AsSpan(sent), SocketFlags.None);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                lock (waiting)
                {
                    failure = new IOException($"{name}: send failed ({e.Message})", e);
                    return;
                }
            }

            lock (waiting)
            {
                // Dequeued only now: while it is being sent, writers see a queue and add to it instead of sending.
                waiting.Dequeue();
                waitingBytes -= next.Length;
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static unsafe partial nint Send(int socket, byte* buffer, nuint length, int flags);
}

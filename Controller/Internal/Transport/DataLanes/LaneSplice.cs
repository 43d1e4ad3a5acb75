using System.Buffers;
using System.Net.Sockets;
using CapCluster.Protocol.Lanes;

namespace CapCluster.Controller.Internal.Transport.DataLanes;

/// <summary>
/// Moves bytes both ways between the two ends of a lane without looking at them (they are TLS
/// records between client and engine, whether an end came on the data port or on the local socket): with
/// splice(2) inside the kernel on Linux, else through a buffer. Either end closing half-closes the other; an error or <see cref="Abort"/> shuts both down.
/// </summary>
internal sealed class LaneSplice(Socket client, Socket engine) : ILaneRelay
{
    private const int BufferSize = 256 * 1024;
    private int aborted;

    public string How => "spliced";

    public string Path => "tls";

    public bool IsOpen => Volatile.Read(ref aborted) == 0;

    public void Answer()
    {
        client.Send([LanePreamble.Spliced], SocketFlags.None);
        engine.Send([LanePreamble.Spliced], SocketFlags.None);
    }

    /// <summary>Runs until both directions have ended, then closes both sockets.</summary>
    public async Task RunAsync()
    {
        try
        {
            await Task.WhenAll(Direction(client, engine), Direction(engine, client)).ConfigureAwait(false);
        }
        finally
        {
            Abort();
            client.Dispose();
            engine.Dispose();
        }
    }

    /// <summary>Shuts both ends down, which ends both directions (a thread blocked in the kernel wakes too).</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref aborted, 1) == 0)
        {
            Shutdown(client);
            Shutdown(engine);
        }
    }

    private Task Direction(Socket from, Socket to) => KernelSplice.IsAvailable
        ? Task.Factory.StartNew(() => Guard(() => KernelSplice.Pump(from, to)), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
        : CopyAsync(from, to);

    private void Guard(Action pump)
    {
        try
        {
            pump();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            Abort();
        }
    }

    private async Task CopyAsync(Socket from, Socket to)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                for (var sent = 0; sent < read;)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Abort();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Shutdown(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }
}

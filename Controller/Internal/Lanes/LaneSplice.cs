using System.Buffers;
using System.Net.Sockets;

namespace CapCluster.Controller.Internal.Lanes;

/// <summary>
/// Copies bytes both ways between the two ends of a lane, without looking at them (they are
/// TLS records between client and engine). Either end closing half-closes the other; an error
/// or <see cref="Abort"/> closes both.
/// </summary>
internal sealed class LaneSplice(Socket client, Socket engine)
{
    // Large enough that one receive drains what the kernel holds for a busy stream.
    private const int BufferSize = 256 * 1024;
    private int aborted;

    public bool IsOpen => Volatile.Read(ref aborted) == 0;

    /// <summary>Runs until both directions have ended.</summary>
    public async Task RunAsync()
    {
        await Task.WhenAll(Task.Run(() => PumpAsync(client, engine)), Task.Run(() => PumpAsync(engine, client))).ConfigureAwait(false);
        Abort();
    }

    public void Abort()
    {
        if (Interlocked.Exchange(ref aborted, 1) == 0)
        {
            client.Dispose();
            engine.Dispose();
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
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
}

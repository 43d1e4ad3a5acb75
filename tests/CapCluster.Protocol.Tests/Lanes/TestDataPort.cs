using System.Net;
using System.Net.Sockets;
using System.Text;
using CapCluster.Protocol.Lanes;

namespace CapCluster.Protocol.Tests.Lanes;

/// <summary>
/// A stand-in for the controller's data port: pairs the two ends that send a preamble for the same
/// lane id and copies bytes between them, or refuses every end with a given reason.
/// </summary>
internal sealed class TestDataPort : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly Dictionary<string, Socket> waiting = [];
    private readonly List<Socket> sockets = [];
    private readonly Task accepting;
    private readonly string? refusal;

    public TestDataPort(string? refusal = null)
    {
        this.refusal = refusal;
        listener.Start();
        accepting = AcceptAllAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    public IReadOnlyList<DnsEndPoint> Endpoints => [new DnsEndPoint("127.0.0.1", Port)];

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        await accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        lock (sockets)
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    private async Task AcceptAllAsync()
    {
        while (true)
        {
            var socket = await listener.AcceptSocketAsync();
            lock (sockets)
            {
                sockets.Add(socket);
            }

            _ = Task.Run(() => JoinAsync(socket));
        }
    }

    private async Task JoinAsync(Socket socket)
    {
        var preamble = new byte[LanePreamble.Length];
        await socket.ReceiveAsync(preamble.AsMemory(), SocketFlags.None);
        Assert.True(LanePreamble.TryParse(preamble, out var id, out _));
        if (refusal is not null)
        {
            await socket.SendAsync(new byte[] { LanePreamble.Refused }.Concat(Encoding.UTF8.GetBytes(refusal)).ToArray(), SocketFlags.None);
            socket.Shutdown(SocketShutdown.Both);
            return;
        }

        Socket? other;
        lock (waiting)
        {
            if (!waiting.Remove(Convert.ToHexString(id), out other))
            {
                waiting[Convert.ToHexString(id)] = socket;
                return;
            }
        }

        await socket.SendAsync(new[] { LanePreamble.Spliced }, SocketFlags.None);
        await other.SendAsync(new[] { LanePreamble.Spliced }, SocketFlags.None);
        await Task.WhenAll(PumpAsync(socket, other), PumpAsync(other, socket));
    }

    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // One end broke off (a reset): the other end must hear of it, as the controller's splice does.
            try
            {
                to.Shutdown(SocketShutdown.Both);
            }
            catch (Exception again) when (again is SocketException or ObjectDisposedException)
            {
            }
        }
    }
}

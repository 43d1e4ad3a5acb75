using System.Net;
using System.Net.Sockets;
using System.Text;
using CapCluster.Protocol.Lanes;

namespace CapCluster.Protocol.Tests.DataLanes;

/// <summary>
/// A stand-in for the controller's data port: pairs the two ends that send a preamble for the same
/// lane id and copies bytes between them, or refuses every end with a given reason. A
/// <see cref="LaneTamper"/> set for one direction sees, and may change, the bytes that follow.
/// With a local socket, an engine's end that joins there is handed the client's connection instead; when the
/// client joined there too, both are answered <see cref="LanePreamble.Local"/>, as the controller answers them.
/// </summary>
internal sealed class TestDataPort : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly Socket? local;
    private readonly Task localAccepting = Task.CompletedTask;
    private int spliced;
    private int handed;
    private readonly Dictionary<string, (Socket Socket, LaneRole Role)> waiting = [];
    private readonly LaneTamper?[] tampers = new LaneTamper?[3];
    private readonly List<Socket> sockets = [];
    private readonly Task accepting;
    private readonly string? refusal;

    public TestDataPort(string? refusal = null, bool handoff = false)
    {
        this.refusal = refusal;
        listener.Start();
        accepting = AcceptAllAsync(() => listener.AcceptSocketAsync());
        if (handoff)
        {
            LocalName = $"capcluster-test-{Guid.NewGuid():N}";
            local = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            local.Bind(new UnixDomainSocketEndPoint("\0" + LocalName));
            local.Listen();
            localAccepting = AcceptAllAsync(() => local.AcceptAsync());
        }
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>The local socket's name (abstract namespace); null without one.</summary>
    public string? LocalName { get; }

    /// <summary>How many lanes the port spliced, and how many it handed to the engine's end.</summary>
    public (int Spliced, int Handed) Joined => (Volatile.Read(ref spliced), Volatile.Read(ref handed));

    public IReadOnlyList<DnsEndPoint> Endpoints => [new DnsEndPoint("127.0.0.1", Port)];

    /// <summary>From now on, the bytes that the end in <paramref name="from"/> sends pass through <paramref name="tamper"/> (null: untouched).</summary>
    public void Tamper(LaneRole from, LaneTamper? tamper) => Volatile.Write(ref tampers[(int)from], tamper);

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        local?.Dispose();
        await accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await localAccepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        lock (sockets)
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    private async Task AcceptAllAsync(Func<Task<Socket>> accept)
    {
        while (true)
        {
            var socket = await accept();
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
        Assert.True(LanePreamble.TryParse(preamble, out var id, out var role));
        if (refusal is not null)
        {
            await socket.SendAsync(new byte[] { LanePreamble.Refused }.Concat(Encoding.UTF8.GetBytes(refusal)).ToArray(), SocketFlags.None);
            socket.Shutdown(SocketShutdown.Both);
            return;
        }

        (Socket Socket, LaneRole Role) other;
        lock (waiting)
        {
            if (!waiting.Remove(Convert.ToHexString(id), out other))
            {
                waiting[Convert.ToHexString(id)] = (socket, role);
                return;
            }
        }

        var (client, engine) = role == LaneRole.Client ? (socket, other.Socket) : (other.Socket, socket);
        var answer = client.AddressFamily == AddressFamily.Unix && engine.AddressFamily == AddressFamily.Unix ? LanePreamble.Local : LanePreamble.Spliced;
        await client.SendAsync(new[] { answer }, SocketFlags.None);
        if (engine.AddressFamily == AddressFamily.Unix)
        {
            // As the controller does: the engine gets the client's connection; this copy is closed at once.
            SocketPassing.Send(engine, answer, client);
            client.Dispose();
            Interlocked.Increment(ref handed);
            return;
        }

        await engine.SendAsync(new[] { LanePreamble.Spliced }, SocketFlags.None);
        Interlocked.Increment(ref spliced);
        await Task.WhenAll(PumpAsync(socket, role, other.Socket), PumpAsync(other.Socket, other.Role, socket));
    }

    private async Task PumpAsync(Socket from, LaneRole role, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            var cut = false;
            while ((read = await from.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                if (cut)
                {
                    // Keep draining, so that the sending end never waits on a full socket.
                    continue;
                }

                var tamper = Volatile.Read(ref tampers[(int)role]);
                var (output, cutHere) = tamper is null ? (buffer.AsMemory(0, read), false) : tamper.Pass(buffer.AsSpan(0, read));
                await to.SendAsync(output, SocketFlags.None);
                if (cutHere)
                {
                    cut = true;
                    to.Shutdown(SocketShutdown.Send);
                }
            }

            if (!cut)
            {
                to.Shutdown(SocketShutdown.Send);
            }
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

using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.DataLanes;
using CapCluster.Protocol.Lanes;

namespace CapCluster.Protocol.Tests.DataLanes;

/// <summary>Joining both ends of a lane through a <see cref="TestDataPort"/>, and sending on it, for the lane tests.</summary>
internal static class TestLanes
{
    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(60);
    public static readonly X509Certificate2 ClientCertificate = TestCertificates.Main.Client;
    public static readonly X509Certificate2 EngineCertificate = TestCertificates.Other.Client;

    /// <summary>Two ends of one TCP connection on loopback: the connecting one and the accepted one.</summary>
    public static async Task<(Socket Connected, Socket Accepted)> SocketPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var connected = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await connected.ConnectAsync(listener.LocalEndPoint!).WaitAsync(TimeLimit);
        return (connected, await listener.AcceptAsync().WaitAsync(TimeLimit));
    }

    /// <summary>
    /// Both ends of one lane; the engine end presents <paramref name="engineCertificate"/> (default: the one the client pins)
    /// and tries the local socket <paramref name="handoff"/> first (default: none); so does the client end with
    /// <paramref name="clientHandoff"/>.
    /// </summary>
    public static async Task<LanePair> ConnectPairAsync(TestDataPort port, X509Certificate2? engineCertificate = null, string? handoff = null, string? clientHandoff = null)
    {
        var id = RandomNumberGenerator.GetBytes(LanePreamble.IdLength);
        var engineOptions = Options(port, id, LaneRole.Engine, engineCertificate ?? EngineCertificate, ClientCertificate) with { HandoffSocket = handoff };
        var engine = LaneConnection.ConnectAsync(engineOptions, CancellationToken.None);
        var client = LaneConnection.ConnectAsync(Options(port, id, LaneRole.Client, ClientCertificate, EngineCertificate) with { HandoffSocket = clientHandoff }, CancellationToken.None);
        try
        {
            return new LanePair(ExpectingTheTestTransfers(await client.WaitAsync(TimeLimit)), ExpectingTheTestTransfers(await engine.WaitAsync(TimeLimit)));
        }
        catch
        {
            // Whichever end did connect must not linger.
            foreach (var end in new[] { client, engine }.Where(t => t.IsCompletedSuccessfully))
            {
                await end.Result.DisposeAsync();
            }

            await Task.WhenAll(client, engine).ContinueWith(_ => { }, TaskScheduler.Default);
            throw;
        }
    }

    /// <summary>
    /// Announces transfers 1 to 16, which the tests use, on <paramref name="lane"/>: in a cluster the controller announces
    /// each push to the engine, and a client the pulls it asks for. Tests of what is not announced use other ids.
    /// </summary>
    public static LaneConnection ExpectingTheTestTransfers(LaneConnection lane)
    {
        for (var transfer = 1; transfer <= 16; transfer++)
        {
            lane.Expect(transfer, long.MaxValue);
        }

        return lane;
    }

    public static LaneOptions Options(TestDataPort port, byte[] id, LaneRole role, X509Certificate2 own, X509Certificate2 peer) =>
        new(port.Endpoints, id, role, own, LaneOptions.PinnedTo(SHA256.HashData(peer.RawData)), $"the test lane ({role})");

    public static Task SendAsync(LaneConnection lane, long transfer, params (string Name, object? Value)[] values)
    {
        var outgoing = new OutgoingValues();
        var named = values.Select(v => outgoing.Add(v.Name, v.Value)).ToList();
        return lane.SendAsync(transfer, named, outgoing.Blobs, CancellationToken.None).WaitAsync(TimeLimit);
    }

    /// <summary>The one value of transfer <paramref name="transfer"/>, decoded.</summary>
    public static async Task<object?> ReceiveOneAsync(LaneConnection lane, long transfer)
    {
        var received = await lane.ReceiveAsync(transfer, CancellationToken.None).WaitAsync(TimeLimit);
        return received.Decode(Assert.Single(received.Named));
    }
}

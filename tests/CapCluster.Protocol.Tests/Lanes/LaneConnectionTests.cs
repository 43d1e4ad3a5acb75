using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;
using Google.Protobuf;

namespace CapCluster.Protocol.Tests.Lanes;

/// <summary>Data lanes end to end: real TLS 1.3 between two ends through a byte-copying data port.</summary>
public sealed class LaneConnectionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly X509Certificate2 ClientCertificate = TestCertificates.Main.Client;
    private static readonly X509Certificate2 EngineCertificate = TestCertificates.Other.Client;

    [Fact]
    public async Task Transfers_BothWays_ArriveIntact_AndAreClaimedById()
    {
        await using var port = new TestDataPort();
        var (client, engine) = await ConnectPairAsync(port, EngineCertificate);
        await using var _ = client;
        await using var __ = engine;
        var matrix = new double[300, 1000];
        for (var i = 0; i < matrix.Length; i++)
        {
            matrix[i / 1000, i % 1000] = i * 0.5;
        }

        var bytes = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 7);

        await SendAsync(client, 1, ("matrix", matrix), ("bytes", bytes));
        await SendAsync(client, 2, ("small", 42));
        await SendAsync(engine, 9, ("back", bytes));

        var first = await engine.ReceiveAsync(1, CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(["matrix", "bytes"], first.Named.Select(n => n.Name));
        Assert.Equal(matrix, (double[,])first.Decode(first.Named[0])!);
        Assert.Equal(bytes, (byte[])first.Decode(first.Named[1])!);
        var second = await engine.ReceiveAsync(2, CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(42, second.Decode(second.Named[0]));
        var back = await client.ReceiveAsync(9, CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(bytes, (byte[])back.Decode(back.Named[0])!);
    }

    [Fact]
    public async Task Connect_WhenTheOtherEndIsNotThePinnedCertificate_FailsSayingSo()
    {
        await using var port = new TestDataPort();

        // The engine end presents TestCertificates.Main.Server, but the client pins EngineCertificate.
        var error = await Assert.ThrowsAsync<LaneException>(() => ConnectPairAsync(port, TestCertificates.Main.Server));

        Assert.Contains("certificate other than the one the controller named", error.Message);
    }

    [Fact]
    public async Task Connect_WhenTheControllerRefuses_ReportsItsReason()
    {
        await using var port = new TestDataPort(refusal: "no such data lane was granted, or it expired");

        var error = await Assert.ThrowsAsync<LaneException>(
            () => LaneConnection.ConnectAsync(Options(port, RandomNumberGenerator.GetBytes(16), LaneRole.Client, ClientCertificate, EngineCertificate), CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains("refused by the controller: no such data lane was granted", error.Message);
    }

    [Fact]
    public async Task Connect_WhenTheOtherEndNeverJoins_TimesOutNamingTheLane()
    {
        await using var port = new TestDataPort();
        var options = Options(port, RandomNumberGenerator.GetBytes(16), LaneRole.Client, ClientCertificate, EngineCertificate) with { ConnectTimeout = TimeSpan.FromMilliseconds(300) };

        var error = await Assert.ThrowsAsync<LaneException>(() => LaneConnection.ConnectAsync(options, CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains("test lane (Client) was not set up", error.Message);
    }

    [Fact]
    public async Task Receive_WhenTheOtherEndCloses_FailsInsteadOfWaiting()
    {
        await using var port = new TestDataPort();
        var (client, engine) = await ConnectPairAsync(port, EngineCertificate);
        await using var _ = client;
        var waiting = client.ReceiveAsync(5, CancellationToken.None);

        await engine.DisposeAsync().AsTask().WaitAsync(Timeout);

        var error = await Assert.ThrowsAsync<LaneException>(() => waiting.WaitAsync(Timeout));
        Assert.Contains("test lane (Client)", error.Message);
        await Assert.ThrowsAsync<LaneException>(() => SendAsync(client, 6, ("x", 1)));
    }

    private static async Task<(LaneConnection Client, LaneConnection Engine)> ConnectPairAsync(TestDataPort port, X509Certificate2 engineCertificate)
    {
        var id = RandomNumberGenerator.GetBytes(LanePreamble.IdLength);
        var engine = LaneConnection.ConnectAsync(Options(port, id, LaneRole.Engine, engineCertificate, ClientCertificate), CancellationToken.None);
        var client = LaneConnection.ConnectAsync(Options(port, id, LaneRole.Client, ClientCertificate, EngineCertificate), CancellationToken.None);
        try
        {
            return (await client.WaitAsync(Timeout), await engine.WaitAsync(Timeout));
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

    private static LaneOptions Options(TestDataPort port, byte[] id, LaneRole role, X509Certificate2 own, X509Certificate2 peer) =>
        new(port.Endpoints, id, role, own, LaneOptions.PinnedTo(SHA256.HashData(peer.RawData)), $"the test lane ({role})");

    private static Task SendAsync(LaneConnection lane, long transfer, params (string Name, object? Value)[] values)
    {
        var outgoing = new OutgoingValues();
        var named = values.Select(v => outgoing.Add(v.Name, v.Value)).ToList();
        return lane.SendAsync(transfer, named, outgoing.Blobs, CancellationToken.None).WaitAsync(Timeout);
    }
}

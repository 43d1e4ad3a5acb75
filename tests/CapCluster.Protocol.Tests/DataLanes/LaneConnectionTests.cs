using System.Security.Cryptography;
using CapCluster.Protocol.DataLanes;
using CapCluster.Protocol.Lanes;
using static CapCluster.Protocol.Tests.DataLanes.TestLanes;

namespace CapCluster.Protocol.Tests.DataLanes;

/// <summary>Data lanes end to end: real TLS 1.3 between two ends through a byte-copying data port.</summary>
public sealed class LaneConnectionTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(LaneRecords.MaxPlaintext - 1)]
    [InlineData(LaneRecords.MaxPlaintext)]
    [InlineData(LaneRecords.MaxPlaintext + 1)]
    [InlineData((3 * LaneRecords.MaxPlaintext) + 5)]
    [InlineData(64 * 1024 * 1024)]
    public async Task Transfer_OfAnySize_ArrivesIntact_BothWays(int size)
    {
        await using var port = new TestDataPort();
        await using var lanes = await ConnectPairAsync(port);
        var (client, engine) = lanes;
        var there = RandomNumberGenerator.GetBytes(size);
        var back = RandomNumberGenerator.GetBytes(size);

        // Both directions at once: each end's records interleave with the other's on the same socket.
        await Task.WhenAll(SendAsync(client, 1, ("there", there)), SendAsync(engine, 2, ("back", back)));

        Assert.Equal(there, (byte[])(await ReceiveOneAsync(engine, 1))!);
        Assert.Equal(back, (byte[])(await ReceiveOneAsync(client, 2))!);
    }

    [Fact]
    public async Task Transfer_WithBlobsOfEveryShape_AndAFrameHeaderLongerThanARecord_ArrivesIntact()
    {
        await using var port = new TestDataPort();
        await using var lanes = await ConnectPairAsync(port);
        var (client, engine) = lanes;
        var nearlyARecord = RandomNumberGenerator.GetBytes(LaneRecords.MaxPlaintext - 1);
        var tiny = RandomNumberGenerator.GetBytes(3);
        var doubles = Enumerable.Range(0, 300_000).Select(i => i / 7.0).ToArray();

        // A string travels in the value tree, so this one makes the frame header span three records.
        var text = new string('x', (2 * LaneRecords.MaxPlaintext) + 11);
        await SendAsync(client, 1, ("a", nearlyARecord), ("b", tiny), ("c", Array.Empty<byte>()), ("d", doubles), ("e", text));

        var received = await engine.ReceiveAsync(1, CancellationToken.None).WaitAsync(TimeLimit);
        Assert.Equal(nearlyARecord, (byte[])received.Decode(received.Named[0])!);
        Assert.Equal(tiny, (byte[])received.Decode(received.Named[1])!);
        Assert.Empty((byte[])received.Decode(received.Named[2])!);
        Assert.Equal(doubles, (double[])received.Decode(received.Named[3])!);
        Assert.Equal(text, received.Decode(received.Named[4]));
    }

    [Fact]
    public async Task Switch_FromTlsToRecords_RepeatedInBothRoles_NeverLosesTheFirstRecords()
    {
        await using var port = new TestDataPort();
        for (var lane = 0; lane < 200; lane++)
        {
            // Each end sends the moment it has switched, without waiting for the other end, and the data
            // port passes one end's key record on together with its first lane record (the other end in turn).
            var sender = lane % 2 == 0 ? LaneRole.Engine : LaneRole.Client;
            var coalescer = new KeyRecordCoalescer();
            port.Tamper(sender, coalescer);
            port.Tamper(sender == LaneRole.Engine ? LaneRole.Client : LaneRole.Engine, null);
            var id = RandomNumberGenerator.GetBytes(LanePreamble.IdLength);
            var joined = await Task.WhenAll(
                SendOnJoinAsync(Options(port, id, LaneRole.Engine, EngineCertificate, ClientCertificate), lane),
                SendOnJoinAsync(Options(port, id, LaneRole.Client, ClientCertificate, EngineCertificate), -lane)).WaitAsync(TimeLimit);
            await using var engine = joined[0];
            await using var client = joined[1];

            Assert.Equal(lane, await ReceiveOneAsync(client, 1));
            Assert.Equal(-lane, await ReceiveOneAsync(engine, 1));
            Assert.True(coalescer.Coalesced, $"lane {lane}: the data port found no key record from the {sender} end to hold back");
        }

        static async Task<LaneConnection> SendOnJoinAsync(LaneOptions options, int value)
        {
            var lane = ExpectingTheTestTransfers(await LaneConnection.ConnectAsync(options, CancellationToken.None).WaitAsync(TimeLimit));
            await SendAsync(lane, 1, ("value", value));
            return lane;
        }
    }

    [Fact]
    public async Task Transfers_BothWays_ArriveIntact_AndAreClaimedById()
    {
        await using var port = new TestDataPort();
        await using var lanes = await ConnectPairAsync(port);
        var (client, engine) = lanes;
        var matrix = new double[300, 1000];
        for (var i = 0; i < matrix.Length; i++)
        {
            matrix[i / 1000, i % 1000] = i * 0.5;
        }

        var bytes = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 7);

        await SendAsync(client, 1, ("matrix", matrix), ("bytes", bytes));
        await SendAsync(client, 2, ("small", 42));
        await SendAsync(engine, 9, ("back", bytes));

        var first = await engine.ReceiveAsync(1, CancellationToken.None).WaitAsync(TimeLimit);
        Assert.Equal(["matrix", "bytes"], first.Named.Select(n => n.Name));
        Assert.Equal(matrix, (double[,])first.Decode(first.Named[0])!);
        Assert.Equal(bytes, (byte[])first.Decode(first.Named[1])!);
        var second = await engine.ReceiveAsync(2, CancellationToken.None).WaitAsync(TimeLimit);
        Assert.Equal(42, second.Decode(second.Named[0]));
        var back = await client.ReceiveAsync(9, CancellationToken.None).WaitAsync(TimeLimit);
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
    public async Task Transfer_OnTheClientsConnectionHandedToTheEngine_ArrivesIntact_BothWays()
    {
        await using var port = new TestDataPort(handoff: true);
        await using var lanes = await ConnectPairAsync(port, handoff: port.LocalName);
        var (client, engine) = lanes;
        var there = RandomNumberGenerator.GetBytes(8 * 1024 * 1024 + 1);
        var back = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);

        // The port closed its copy of the connection as it handed it over: nothing of it is between the ends.
        await Task.WhenAll(SendAsync(client, 1, ("there", there)), SendAsync(engine, 2, ("back", back)));

        Assert.Equal(there, (byte[])(await ReceiveOneAsync(engine, 1))!);
        Assert.Equal(back, (byte[])(await ReceiveOneAsync(client, 2))!);
        Assert.Equal((0, 1), port.Joined);
    }

    [Fact]
    public async Task HandedLane_WhenTheEngineEndCloses_TheClientEndHearsIt()
    {
        await using var port = new TestDataPort(handoff: true);
        await using var lanes = await ConnectPairAsync(port, handoff: port.LocalName);
        var waiting = lanes.Client.ReceiveAsync(5, CancellationToken.None);

        await lanes.Engine.DisposeAsync().AsTask().WaitAsync(TimeLimit);

        await Assert.ThrowsAsync<LaneException>(() => waiting.WaitAsync(TimeLimit));
    }

    [Fact]
    public async Task Connect_WhenTheLocalSocketCannotBeReached_JoinsOnTheDataPort()
    {
        // Another host, or another network namespace: the name exists nowhere here.
        await using var port = new TestDataPort(handoff: true);
        await using var lanes = await ConnectPairAsync(port, handoff: $"capcluster-test-{Guid.NewGuid():N}");

        await SendAsync(lanes.Client, 1, ("x", 42));

        Assert.Equal(42, await ReceiveOneAsync(lanes.Engine, 1));
        Assert.Equal((1, 0), port.Joined);
    }

    [Fact]
    public async Task Connect_WhenTheControllerRefusesOnTheLocalSocket_ReportsItsReason()
    {
        await using var port = new TestDataPort(refusal: "no such data lane was granted, or it expired", handoff: true);
        var options = Options(port, RandomNumberGenerator.GetBytes(16), LaneRole.Engine, EngineCertificate, ClientCertificate) with { HandoffSocket = port.LocalName };

        var error = await Assert.ThrowsAsync<LaneException>(() => LaneConnection.ConnectAsync(options, CancellationToken.None).WaitAsync(TimeLimit));

        Assert.Contains("refused by the controller: no such data lane was granted", error.Message);
    }

    [Fact]
    public async Task Connect_OnTheLocalSocket_WhenTheClientNeverJoins_TimesOutNamingTheLane()
    {
        await using var port = new TestDataPort(handoff: true);
        var options = Options(port, RandomNumberGenerator.GetBytes(16), LaneRole.Engine, EngineCertificate, ClientCertificate)
            with { HandoffSocket = port.LocalName, ConnectTimeout = TimeSpan.FromMilliseconds(300) };

        var error = await Assert.ThrowsAsync<LaneException>(() => LaneConnection.ConnectAsync(options, CancellationToken.None).WaitAsync(TimeLimit));

        Assert.Contains("test lane (Engine) was not set up", error.Message);
    }

    [Fact]
    public async Task Connect_WhenTheControllerRefuses_ReportsItsReason()
    {
        await using var port = new TestDataPort(refusal: "no such data lane was granted, or it expired");

        var error = await Assert.ThrowsAsync<LaneException>(
            () => LaneConnection.ConnectAsync(Options(port, RandomNumberGenerator.GetBytes(16), LaneRole.Client, ClientCertificate, EngineCertificate), CancellationToken.None).WaitAsync(TimeLimit));

        Assert.Contains("refused by the controller: no such data lane was granted", error.Message);
    }

    [Fact]
    public async Task Connect_WhenTheOtherEndNeverJoins_TimesOutNamingTheLane()
    {
        await using var port = new TestDataPort();
        var options = Options(port, RandomNumberGenerator.GetBytes(16), LaneRole.Client, ClientCertificate, EngineCertificate) with { ConnectTimeout = TimeSpan.FromMilliseconds(300) };

        var error = await Assert.ThrowsAsync<LaneException>(() => LaneConnection.ConnectAsync(options, CancellationToken.None).WaitAsync(TimeLimit));

        Assert.Contains("test lane (Client) was not set up", error.Message);
    }

    [Fact]
    public async Task Receive_WhenTheOtherEndCloses_FailsInsteadOfWaiting()
    {
        await using var port = new TestDataPort();
        await using var lanes = await ConnectPairAsync(port);
        var (client, engine) = lanes;
        var waiting = client.ReceiveAsync(5, CancellationToken.None);

        await engine.DisposeAsync().AsTask().WaitAsync(TimeLimit);

        var error = await Assert.ThrowsAsync<LaneException>(() => waiting.WaitAsync(TimeLimit));
        Assert.Contains("test lane (Client)", error.Message);
        await Assert.ThrowsAsync<LaneException>(() => SendAsync(client, 6, ("x", 1)));
    }

    [Fact]
    public async Task Send_AfterDispose_FailsSayingTheLaneIsClosed()
    {
        await using var port = new TestDataPort();
        await using var lanes = await ConnectPairAsync(port);

        await lanes.Client.DisposeAsync();

        var error = await Assert.ThrowsAsync<LaneException>(() => SendAsync(lanes.Client, 1, ("x", 1)));
        Assert.Contains("the test lane (Client) is closed", error.Message);
    }
}

using System.Security.Cryptography;
using CapCluster.Protocol.DataLanes;
using CapCluster.Protocol.Lanes;
using static CapCluster.Protocol.Tests.DataLanes.TestLanes;

namespace CapCluster.Protocol.Tests.DataLanes;

/// <summary>
/// Local lanes: both ends join on the local socket, the engine is handed the client's Unix socket, and the two send
/// plain records on it (no TLS). The same frames arrive as on a sealed lane.
/// </summary>
public sealed class LocalLaneTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(LaneRecords.MaxPlaintext)]
    [InlineData(LaneRecords.MaxPlaintext + 1)]
    [InlineData((3 * LaneRecords.MaxPlaintext) + 5)]
    public async Task Transfer_OnALocalLane_OfEveryBoundarySize_ArrivesIntact_BothWays(int size)
    {
        await using var port = new TestDataPort(handoff: true);
        await using var lanes = await ConnectPairAsync(port, handoff: port.LocalName, clientHandoff: port.LocalName);
        var (client, engine) = lanes;
        var there = RandomNumberGenerator.GetBytes(size);
        var back = RandomNumberGenerator.GetBytes(size);

        await Task.WhenAll(SendAsync(client, 1, ("there", there)), SendAsync(engine, 2, ("back", back)));

        Assert.Equal(there, (byte[])(await ReceiveOneAsync(engine, 1))!);
        Assert.Equal(back, (byte[])(await ReceiveOneAsync(client, 2))!);
        Assert.True(client.IsLocal && engine.IsLocal);
        Assert.Equal((0, 1), port.Joined);
    }

    [Fact]
    public async Task Transfer_OnALocalLane_WithManySmallBlobsAndAFrameHeaderLongerThanARecord_ArrivesIntact()
    {
        await using var port = new TestDataPort(handoff: true);
        await using var lanes = await ConnectPairAsync(port, handoff: port.LocalName, clientHandoff: port.LocalName);
        var small = Enumerable.Range(0, 300).Select(i => ("b" + i, (object?)RandomNumberGenerator.GetBytes(i * 37))).ToArray();
        var longName = ("n", (object?)new string('x', LaneRecords.MaxPlaintext + 10));

        await SendAsync(lanes.Client, 1, [.. small, longName]);

        var received = await lanes.Engine.ReceiveAsync(1, CancellationToken.None).WaitAsync(TimeLimit);
        var decoded = received.Named.ToDictionary(n => n.Name, received.Decode);
        Assert.All(small, s => Assert.Equal((byte[])s.Item2!, (byte[])decoded[s.Item1]!));
        Assert.Equal((string)longName.Item2!, decoded["n"]);
    }

    [Fact]
    public async Task LocalLane_WhenTheEngineEndCloses_TheClientEndHearsItAsAClose()
    {
        await using var port = new TestDataPort(handoff: true);
        await using var lanes = await ConnectPairAsync(port, handoff: port.LocalName, clientHandoff: port.LocalName);
        var waiting = lanes.Client.ReceiveAsync(5, CancellationToken.None);

        await lanes.Engine.DisposeAsync().AsTask().WaitAsync(TimeLimit);

        var closed = await Assert.ThrowsAsync<LaneException>(() => waiting.WaitAsync(TimeLimit));
        Assert.Contains("was closed by the other end", closed.Message);
    }

    [Fact]
    public async Task ClientOnTheLocalSocket_WithAnEngineOnTheDataPort_RunsTls()
    {
        // An engine in another network namespace cannot reach the local socket: the lane is spliced, and sealed.
        await using var port = new TestDataPort(handoff: true);
        await using var lanes = await ConnectPairAsync(port, clientHandoff: port.LocalName);
        var there = RandomNumberGenerator.GetBytes((2 * LaneRecords.MaxPlaintext) + 1);

        await SendAsync(lanes.Client, 1, ("there", there));

        Assert.Equal(there, (byte[])(await ReceiveOneAsync(lanes.Engine, 1))!);
        Assert.False(lanes.Client.IsLocal || lanes.Engine.IsLocal);
        Assert.Equal((1, 0), port.Joined);
    }
}

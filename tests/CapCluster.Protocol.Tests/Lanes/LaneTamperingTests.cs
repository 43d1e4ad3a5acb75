using System.Buffers.Binary;
using CapCluster.Protocol.Lanes;
using static CapCluster.Protocol.Tests.Lanes.TestLanes;

namespace CapCluster.Protocol.Tests.Lanes;

/// <summary>
/// A data port that alters, drops, reorders, repeats or cuts the lane's records after the switch from TLS:
/// the receiving end closes the lane saying which record failed, and delivers nothing of that transfer.
/// </summary>
public sealed class LaneTamperingTests
{
    // 3 MiB of blob: record 0 is the frame header, records 1 to 3 are full, record 4 holds the rest.
    private static readonly byte[] Blob = new byte[3 * 1024 * 1024];

    public static TheoryData<string, string> Cases => new()
    {
        { "a ciphertext byte of the frame header", "record 0 failed authentication" },
        { "a ciphertext byte of a blob", "record 1 failed authentication" },
        { "a tag byte", "record 2 failed authentication" },
        { "the length (associated data)", "record 1 failed authentication" },
        { "a dropped record", "record 1 failed authentication" },
        { "two records swapped", "record 1 failed authentication" },
        { "a repeated record", "record 2 failed authentication" },
        { "a length over the limit", "record 1 claims 2147483647 bytes" },
        { "a cut inside a record", "the stream ended inside record 2" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Tampering_FromClientToEngine_ClosesTheLaneNamingTheRecord(string tampering, string expected)
    {
        await using var port = new TestDataPort();
        var (client, engine) = await ConnectPairAsync(port);
        await using var _ = client;
        await using var __ = engine;
        port.Tamper(LaneRole.Client, Tamper(tampering));

        var sending = SendAsync(client, 1, ("blob", Blob));

        var error = await Assert.ThrowsAsync<LaneException>(() => engine.ReceiveAsync(1, CancellationToken.None).WaitAsync(TimeLimit));
        Assert.Contains("the test lane (Engine) broke: " + expected, error.Message);
        await engine.Closed.WaitAsync(TimeLimit);
        Assert.False(engine.IsOpen);
        await client.DisposeAsync();
        await sending.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeLimit);
    }

    [Fact]
    public async Task Tampering_FromEngineToClient_IsDetectedByTheClient()
    {
        await using var port = new TestDataPort();
        var (client, engine) = await ConnectPairAsync(port);
        await using var _ = client;
        await using var __ = engine;
        port.Tamper(LaneRole.Engine, Tamper("a ciphertext byte of a blob"));

        var sending = SendAsync(engine, 7, ("blob", Blob));

        var error = await Assert.ThrowsAsync<LaneException>(() => client.ReceiveAsync(7, CancellationToken.None).WaitAsync(TimeLimit));
        Assert.Contains("the test lane (Client) broke: record 1 failed authentication", error.Message);
        await engine.DisposeAsync();
        await sending.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeLimit);
    }

    [Fact]
    public async Task UntouchedRecords_ThroughTheSameRelay_Arrive()
    {
        // The tamper itself passes records on intact: what the other tests detect is the change, not the relay.
        await using var port = new TestDataPort();
        var (client, engine) = await ConnectPairAsync(port);
        await using var _ = client;
        await using var __ = engine;
        port.Tamper(LaneRole.Client, new RecordTamper((_, bytes) => [bytes]));
        var blob = Enumerable.Range(0, Blob.Length).Select(i => (byte)i).ToArray();

        await SendAsync(client, 1, ("blob", blob));

        Assert.Equal(blob, (byte[])(await ReceiveOneAsync(engine, 1))!);
    }

    private static RecordTamper Tamper(string tampering) => tampering switch
    {
        "a ciphertext byte of the frame header" => RecordTamper.Flip(0, _ => LaneRecords.HeaderSize + 2),
        "a ciphertext byte of a blob" => RecordTamper.Flip(1, _ => LaneRecords.HeaderSize + 1000),
        "a tag byte" => RecordTamper.Flip(2, bytes => bytes.Length - 1),

        // MaxPlaintext ends in 0xEC: clearing its top bit makes the record 128 bytes shorter.
        "the length (associated data)" => RecordTamper.Flip(1, _ => 3, 0x80),
        "a dropped record" => RecordTamper.Drop(1),
        "two records swapped" => RecordTamper.Swap(1),
        "a repeated record" => new RecordTamper((n, bytes) => n == 1 ? [bytes, bytes] : [bytes]),
        "a length over the limit" => new RecordTamper((n, bytes) =>
        {
            if (n == 1)
            {
                BinaryPrimitives.WriteInt32BigEndian(bytes, int.MaxValue);
            }

            return [bytes];
        }),
        "a cut inside a record" => RecordTamper.CutInside(2),
        _ => throw new ArgumentOutOfRangeException(nameof(tampering), tampering, null),
    };
}

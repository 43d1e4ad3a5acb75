using System.Buffers.Binary;
using CapCluster.Protocol.DataLanes;
using CapCluster.Protocol.Lanes;
using static CapCluster.Protocol.Tests.DataLanes.TestLanes;

namespace CapCluster.Protocol.Tests.DataLanes;

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
    public Task Tampering_FromClientToEngine_ClosesTheLaneNamingTheRecord(string tampering, string expected) =>
        AssertDetectedAsync(LaneRole.Client, tampering, expected);

    [Fact]
    public Task Tampering_FromEngineToClient_IsDetectedByTheClient() =>
        AssertDetectedAsync(LaneRole.Engine, "a ciphertext byte of a blob", "record 1 failed authentication");

    [Fact]
    public async Task UntouchedRecords_ThroughTheSameRelay_Arrive()
    {
        // The tamper itself passes records on intact: what the other tests detect is the change, not the relay.
        await using var port = new TestDataPort();
        await using var lanes = await ConnectPairAsync(port);
        var (client, engine) = lanes;
        port.Tamper(LaneRole.Client, new RecordTamper((_, bytes) => [bytes]));
        var blob = Enumerable.Range(0, Blob.Length).Select(i => (byte)i).ToArray();

        await SendAsync(client, 1, ("blob", blob));

        Assert.Equal(blob, (byte[])(await ReceiveOneAsync(engine, 1))!);
    }

    /// <summary>
    /// The end in <paramref name="from"/> sends <see cref="Blob"/> through a data port that does <paramref name="tampering"/>:
    /// the other end's lane breaks with <paramref name="expected"/>, the transfer never arrives, and the lane is closed.
    /// </summary>
    private static async Task AssertDetectedAsync(LaneRole from, string tampering, string expected)
    {
        await using var port = new TestDataPort();
        await using var lanes = await ConnectPairAsync(port);
        var (sender, receiver) = from == LaneRole.Client ? (lanes.Client, lanes.Engine) : (lanes.Engine, lanes.Client);
        port.Tamper(from, Tamper(tampering));

        var sending = SendAsync(sender, 1, ("blob", Blob));

        var error = await Assert.ThrowsAsync<LaneException>(() => receiver.ReceiveAsync(1, CancellationToken.None).WaitAsync(TimeLimit));
        Assert.Contains($"{receiver.Name} broke: {expected}", error.Message);
        await receiver.Closed.WaitAsync(TimeLimit);
        Assert.False(receiver.IsOpen);

        // The sender may or may not have finished writing before the other end closed; either way it must not hang.
        await sender.DisposeAsync();
        await sending.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeLimit);
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

using System.Security.Cryptography;
using CapCluster.Protocol.DataLanes;
using CapCluster.Protocol.Lanes;

namespace CapCluster.Protocol.Tests.DataLanes;

/// <summary>The record layer alone, writer to reader through memory: keys, nonces, key updates and limits.</summary>
public sealed class LaneRecordLayerTests
{
    private readonly byte[] key = RandomNumberGenerator.GetBytes(LaneRecords.KeySize);

    [Fact]
    public void Records_UnderAKeyUpdatedEveryFewRecords_OpenInOrder()
    {
        var pieces = new[] { 1, 7, LaneRecords.MaxPlaintext, 100, 5, 3, 2, 9, 1, 4 }.Select(RandomNumberGenerator.GetBytes).ToList();
        var wire = Seal(LaneRole.Client, recordsPerKey: 3, pieces);

        var reader = Reader(wire, recordsPerKey: 3);

        foreach (var piece in pieces)
        {
            var received = new byte[piece.Length];
            reader.ReadExactly(received);
            Assert.Equal(piece, received);
        }

        Assert.Equal(0, reader.Read(new byte[1]));
    }

    [Fact]
    public void ALargeRead_OpensRecordsWhileTheNextAreReceived_UnderKeyUpdates()
    {
        var pieces = Enumerable.Range(0, 7).Select(i => RandomNumberGenerator.GetBytes(i == 6 ? 1000 : LaneRecords.MaxPlaintext)).ToList();
        var wire = Seal(LaneRole.Client, recordsPerKey: 3, pieces);
        var reader = Reader(wire, recordsPerKey: 3);

        var received = new byte[pieces.Sum(p => p.Length)];
        reader.ReadExactly(received.AsMemory());

        Assert.Equal(pieces.SelectMany(p => p), received);
        Assert.Equal(0, reader.Read(new byte[1]));
    }

    [Fact]
    public void ALargeRead_WithSeveralAlteredRecords_NamesTheFirst()
    {
        var pieces = Enumerable.Range(0, 6).Select(_ => RandomNumberGenerator.GetBytes(LaneRecords.MaxPlaintext)).ToList();
        var wire = Seal(LaneRole.Client, LaneRecords.RecordsPerKey, pieces).ToArray();
        foreach (var record in new[] { 2, 4 })
        {
            wire[(record * LaneRecords.MaxRecordSize) + LaneRecords.HeaderSize + 10] ^= 1;
        }

        var reader = Reader(new MemoryStream(wire));

        var error = Assert.Throws<LaneException>(() => reader.ReadExactly(new byte[6 * LaneRecords.MaxPlaintext].AsMemory()));
        Assert.Contains("record 2 failed authentication", error.Message);
    }

    [Fact]
    public void Records_AfterAKeyUpdate_DoNotOpenUnderTheOldKey()
    {
        var wire = Seal(LaneRole.Client, recordsPerKey: 3, Enumerable.Range(0, 4).Select(_ => new byte[10]));
        var reader = Reader(wire);
        var buffer = new byte[10];
        for (var record = 0; record < 3; record++)
        {
            reader.ReadExactly(buffer);
        }

        var error = Assert.Throws<LaneException>(() => reader.ReadExactly(buffer));
        Assert.Contains("record 3 failed authentication", error.Message);
    }

    [Theory]
    // Sealed by the engine under the same key bytes: the nonce carries the sender's role, so even then
    // a record reflected back to the end that sealed it would not open.
    [InlineData(LaneRole.Engine, 10, "record 0 failed authentication")]
    [InlineData(LaneRole.Client, 5, "record 0 carries 10 bytes where at most 5 belong")]
    [InlineData(LaneRole.Client, 20, "the stream ended before record 1, in the middle of a frame")]
    [InlineData(LaneRole.Client, 30, "the stream ended before record 1, in the middle of a frame")]
    public void Record_ThatDoesNotBelongWhereItIsRead_IsRefusedSayingWhy(LaneRole sender, int destination, string expected)
    {
        var reader = Reader(Seal(sender, LaneRecords.RecordsPerKey, [new byte[10]]));

        var error = Assert.Throws<LaneException>(() => reader.ReadExactly(new byte[destination]));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void AnEndOfStreamRecord_NotSealedWithTheKey_IsRefused()
    {
        var wire = new MemoryStream(new byte[LaneRecords.Overhead]);
        var reader = Reader(wire);

        var error = Assert.Throws<LaneException>(() => reader.Read(new byte[10]));

        Assert.Contains("record 0 failed authentication", error.Message);
    }

    [Fact]
    public void AStreamCutBetweenRecords_IsToldFromOneThatWasClosed()
    {
        var pieces = new[] { RandomNumberGenerator.GetBytes(100), RandomNumberGenerator.GetBytes(50) };
        var closed = Reader(Seal(LaneRole.Client, LaneRecords.RecordsPerKey, pieces));
        var cutWire = Seal(LaneRole.Client, LaneRecords.RecordsPerKey, pieces, end: false);
        var cut = Reader(cutWire);

        foreach (var reader in new[] { closed, cut })
        {
            reader.ReadExactly(new byte[100]);
            reader.ReadExactly(new byte[50]);
        }

        Assert.Equal(0, closed.Read(new byte[1]));
        Assert.Equal(0, closed.Read(new byte[1]));
        var error = Assert.Throws<LaneException>(() => cut.Read(new byte[1]));
        Assert.Equal("the stream ended at record 2 without the end-of-stream record: it was cut, or the other end died", error.Message);
    }

    [Fact]
    public void RecordsOfAnotherLane_UnderTheSameKeyAndIv_DoNotOpen()
    {
        var iv = RandomNumberGenerator.GetBytes(LaneRecords.NonceSize);
        var wire = new MemoryStream();
        using (var writer = new LaneRecordWriter(wire, new LaneRecordKey(key.ToArray(), LaneRole.Client, iv: iv, laneId: RandomNumberGenerator.GetBytes(16))))
        {
            writer.Write(new byte[10]);
            writer.Flush();
        }

        wire.Position = 0;
        var reader = new LaneRecordReader(wire, new LaneRecordKey(key.ToArray(), LaneRole.Client, iv: iv, laneId: RandomNumberGenerator.GetBytes(16)));

        Assert.Contains("record 0 failed authentication", Assert.Throws<LaneException>(() => reader.Read(new byte[10])).Message);
    }

    [Fact]
    public void Writer_PacksSmallRecordsIntoOneWrite_AndCutsLargeOnesAtTheLimit()
    {
        var wire = new CountingStream();
        using (var writer = new LaneRecordWriter(wire, new LaneRecordKey(key.ToArray(), LaneRole.Client)))
        {
            writer.Write(new byte[100]);
            writer.Write(new byte[200]);
            writer.Flush();
            writer.Write(new byte[(2 * LaneRecords.MaxPlaintext) + 1]);
            writer.Flush();
        }

        Assert.Equal(
            [300 + (2 * LaneRecords.Overhead), LaneRecords.MaxRecordSize, LaneRecords.MaxRecordSize, 1 + LaneRecords.Overhead],
            wire.Writes);
    }

    /// <summary>The engine end's reader: it opens what the client end seals.</summary>
    private LaneRecordReader Reader(Stream wire, long recordsPerKey = LaneRecords.RecordsPerKey) =>
        new(wire, new LaneRecordKey(key.ToArray(), LaneRole.Client, recordsPerKey));

    private MemoryStream Seal(LaneRole sender, long recordsPerKey, IEnumerable<byte[]> pieces, bool end = true)
    {
        var wire = new MemoryStream();
        using (var writer = new LaneRecordWriter(wire, new LaneRecordKey(key.ToArray(), sender, recordsPerKey)))
        {
            foreach (var piece in pieces)
            {
                writer.Write(piece);
            }

            if (end)
            {
                writer.WriteEnd();
            }

            writer.Flush();
        }

        wire.Position = 0;
        return wire;
    }

    private sealed class CountingStream : MemoryStream
    {
        public List<int> Writes { get; } = [];

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Writes.Add(buffer.Length);
            base.Write(buffer);
        }
    }
}

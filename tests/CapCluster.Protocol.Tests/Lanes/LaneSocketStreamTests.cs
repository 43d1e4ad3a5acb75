using System.Net.Sockets;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.Tests.DataLanes;

namespace CapCluster.Protocol.Tests.Lanes;

/// <summary>The socket stream under a lane: reads that stop at TLS record boundaries until the switch.</summary>
public sealed class LaneSocketStreamTests
{
    [Fact]
    public async Task Reads_StopAtTlsRecords_AndWhatFollowsTheLastStaysBuffered()
    {
        var (sender, accepted) = await TestLanes.SocketPairAsync();
        using var _ = sender;
        using var stream = new LaneSocketStream(accepted) { Reads = LaneReads.TlsRecords };

        // Two TLS records (10 and 3 bytes of body) and 7 bytes of something else, in one write.
        byte[] first = [23, 3, 3, 0, 10, .. Enumerable.Repeat((byte)1, 10)];
        byte[] second = [23, 3, 3, 0, 3, 2, 2, 2];
        byte[] after = [0, 0, 0, 9, 9, 9, 9];
        sender.Send([.. first, .. second, .. after]);

        Assert.Equal(first, ReadRecord(stream, first.Length));
        Assert.Equal(second, ReadRecord(stream, second.Length));
        stream.Reads = LaneReads.Direct;
        var rest = new byte[after.Length];
        stream.ReadExactly(rest);
        Assert.Equal(after, rest);
    }

    [Fact]
    public async Task AWriteAfterTheStreamClosed_Fails_AndNothingReachesTheConnectionThatGotItsDescriptor()
    {
        var (sender, accepted) = await TestLanes.SocketPairAsync();
        using var _ = accepted;
        var stream = new LaneSocketStream(sender);
        stream.NeverBlockWrites("the test lane");
        stream.Write([1]);
        var number = sender.SafeHandle.DangerousGetHandle();
        stream.Dispose();

        // The kernel gives the lowest free number: the next connection made here is likely to get the closed one.
        var (connected, acceptedToo) = await TestLanes.SocketPairAsync();
        using var __ = connected;
        using var ___ = acceptedToo;
        var reused = new[] { connected, acceptedToo }.FirstOrDefault(s => s.SafeHandle.DangerousGetHandle() == number);

        Assert.Throws<ObjectDisposedException>(() => stream.Write([7, 7, 7]));
        if (reused is not null)
        {
            var peer = reused == connected ? acceptedToo : connected;
            Assert.False(peer.Poll(200_000, SelectMode.SelectRead), "the write reached the connection that took the closed socket's number");
        }
    }

    /// <summary>Reads with a large buffer until <paramref name="length"/> bytes came; fails if a read went past them.</summary>
    private static byte[] ReadRecord(Stream stream, int length)
    {
        var record = new List<byte>();
        var buffer = new byte[1000];
        while (record.Count < length)
        {
            var read = stream.Read(buffer);
            Assert.InRange(read, 1, length - record.Count);
            record.AddRange(buffer.AsSpan(0, read));
        }

        return [.. record];
    }
}

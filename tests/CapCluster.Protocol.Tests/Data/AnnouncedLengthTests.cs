using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Protocol.Tests.Data;

/// <summary>A receiver allocates and keeps only what the sender announced, and announcements are lengths.</summary>
public sealed class AnnouncedLengthTests
{
    [Theory]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    public void NegativeBlobLengths_AreRefused_ByTheRelayAndByTheReceiver(long length)
    {
        var relay = Assert.Throws<RpcException>(() => new RelayedBlobs([10, length]));
        var receiver = Assert.Throws<RpcException>(() => new ReceivedValues([], [length]));

        Assert.Equal(StatusCode.InvalidArgument, relay.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, receiver.StatusCode);
        Assert.Contains($"a blob length of {length} bytes is not a length", relay.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void LengthsThatOverflowWhenAdded_AreRefused()
    {
        var e = Assert.Throws<RpcException>(() => new RelayedBlobs([long.MaxValue, 1]));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
    }

    [Fact]
    public void ValuesAnnouncingMoreThanAdmitted_AreRefusedBeforeAnythingIsAllocated()
    {
        var outgoing = new OutgoingValues();
        var named = outgoing.Add("big", new byte[1000]);

        var e = Assert.Throws<RpcException>(() => new ReceivedValues([named], [1000], maxBytes: 999));

        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal("the values announce 1000 blob bytes, more than the 999 admitted for them", e.Status.Detail);
    }

    [Fact]
    public void ATreeAllocatingMoreThanItsLengthsAnnounce_IsRefusedAsMalformed()
    {
        // The tree says 1 MiB; the lengths announce 10 bytes: the receiver allocates by the lengths, not the tree.
        var outgoing = new OutgoingValues();
        var named = outgoing.Add("big", new byte[1 << 20]);
        Assert.Single(outgoing.Blobs);

        var e = Assert.Throws<RpcException>(() => new ReceivedValues([named], [10]));

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("malformed", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ARelayKeepsNoMoreThanAnnounced_AndARefusedCallsChunksNotAtAll()
    {
        var kept = new RelayedBlobs([100]);
        Assert.False(kept.Add(Chunk(0, 60)));
        Assert.Throws<RpcException>(() => kept.Add(Chunk(0, 60)));
        Assert.True(kept.Add(Chunk(60, 40)));
        Assert.Equal(100, kept.Chunks.Sum(c => c.Data.Length));

        var dropped = new RelayedBlobs([100], keep: false);
        Assert.True(dropped.Add(Chunk(0, 100)));
        Assert.Empty(dropped.Chunks);
    }

    private static DataChunk Chunk(long offset, int length) => new() { CallId = 1, Blob = 0, Offset = offset, Data = ByteString.CopyFrom(new byte[length]) };
}

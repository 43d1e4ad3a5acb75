using System.Net.Sockets;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.Tests.DataLanes;

namespace CapCluster.Protocol.Tests.Lanes;

/// <summary>What the kernel says about a lane's socket, asked without reading it.</summary>
public sealed class DescriptorsTests
{
    [Fact]
    public async Task PeerHasClosed_OnlyOnceTheOtherEndClosed_EvenWithItsLastBytesUnread()
    {
        var (here, there) = await TestLanes.SocketPairAsync();
        using var _ = here;

        there.Send([1, 2, 3]);
        Assert.True(here.Poll(TestLanes.TimeLimit, SelectMode.SelectRead));
        Assert.False(Descriptors.PeerHasClosed(here));

        there.Dispose();
        var deadline = DateTime.UtcNow + TestLanes.TimeLimit;
        while (!Descriptors.PeerHasClosed(here) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1);
        }

        Assert.True(Descriptors.PeerHasClosed(here));
        Assert.Equal(3, here.Available);
    }

    [Fact]
    public void PeerHasClosed_OnASocketClosedOnThisSide_IsFalse_AndDoesNotThrow()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Dispose();

        Assert.False(Descriptors.PeerHasClosed(socket));
    }
}

using CapCluster.Protocol.DataLanes;

namespace CapCluster.Protocol.Tests.DataLanes;

/// <summary>Both ends of one test lane, closed together.</summary>
internal sealed record LanePair(LaneConnection Client, LaneConnection Engine) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Engine.DisposeAsync();
    }
}

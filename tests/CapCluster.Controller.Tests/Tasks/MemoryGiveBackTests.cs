using System.Threading.Channels;
using CapCluster.Controller.Internal.Tasks;
using CapCluster.Controller.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// <see cref="MemoryGiveBack"/>: a large clear is followed by a collection, at most one per spacing; a clear that comes
/// sooner waits for its turn rather than being skipped, and a burst of them costs one collection, not one each.
/// </summary>
public sealed class MemoryGiveBackTests
{
    private readonly FakeTimeProvider time = new();
    private readonly Channel<long> collections = Channel.CreateUnbounded<long>();
    private readonly MemoryGiveBack giveBack;

    public MemoryGiveBackTests() => giveBack = new MemoryGiveBack(time, () => collections.Writer.TryWrite(time.GetTimestamp()));

    [Fact]
    public async Task ALargeClear_IsFollowedByACollection_ASmallOneIsNot()
    {
        giveBack.After(MemoryGiveBack.Threshold - 1);
        Assert.False(collections.Reader.TryRead(out _));

        giveBack.After(MemoryGiveBack.Threshold);
        await collections.Reader.ReadAsync().AsTask().Within();
    }

    [Fact]
    public async Task ClearsSoonAfterACollection_WaitForTheSpacing_AndTheLastOfABurstIsCollected()
    {
        giveBack.After(MemoryGiveBack.Threshold);
        var first = await collections.Reader.ReadAsync().AsTask().Within();

        // Three large clears one second apart, all within the spacing of the first collection: one collection
        // follows them, once the spacing has passed, not before.
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            giveBack.After(MemoryGiveBack.Threshold);
        }

        var next = collections.Reader.ReadAsync().AsTask();
        Assert.False(next.IsCompleted);
        time.Advance(MemoryGiveBack.Spacing - TimeSpan.FromSeconds(3));
        var second = await next.Within();
        Assert.True(time.GetElapsedTime(first, second) >= MemoryGiveBack.Spacing);

        // Nothing more was owed.
        time.Advance(MemoryGiveBack.Spacing * 2);
        Assert.False(collections.Reader.TryRead(out _));
    }
}

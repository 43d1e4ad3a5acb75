using CapCluster.Mpi.Internal;

namespace CapCluster.Mpi.Tests;

/// <summary>How calls are run for each thread level MPI may grant, without MPI.</summary>
public sealed class MpiDispatcherTests
{
    [Theory]
    [InlineData(ThreadLevel.Single)]
    [InlineData(ThreadLevel.Funneled)]
    public async Task BelowSerialized_EveryCallRunsOnTheMpiThread(ThreadLevel granted)
    {
        using var dispatcher = new MpiDispatcher();
        dispatcher.Adopt(granted);
        int initThread = 0;
        dispatcher.OnOwnThread(() => initThread = Environment.CurrentManagedThreadId);

        var threads = await Task.WhenAll(Enumerable.Range(0, 8)
            .Select(_ => Task.Run(() => dispatcher.Run(() => Environment.CurrentManagedThreadId))))
            .WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(threads, thread => Assert.Equal(initThread, thread));
        Assert.NotEqual(Environment.CurrentManagedThreadId, initThread);
    }

    [Fact]
    public async Task Serialized_CallsRunOnTheCallersThreadOneAtATime()
    {
        using var dispatcher = new MpiDispatcher();
        dispatcher.Adopt(ThreadLevel.Serialized);
        int inside = 0, overlaps = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                dispatcher.Run(() =>
                {
                    if (Interlocked.Increment(ref inside) > 1)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    Thread.SpinWait(50);
                    Interlocked.Decrement(ref inside);
                });
            }
        }))).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, overlaps);
        Assert.Equal(Environment.CurrentManagedThreadId, dispatcher.Run(() => Environment.CurrentManagedThreadId));
    }

    [Fact]
    public void Multiple_CallsRunOnTheCallersThread()
    {
        using var dispatcher = new MpiDispatcher();
        dispatcher.Adopt(ThreadLevel.Multiple);
        Assert.Equal(MpiDispatcher.DispatchMode.Direct, dispatcher.Mode);
        Assert.Equal(Environment.CurrentManagedThreadId, dispatcher.Run(() => Environment.CurrentManagedThreadId));
    }

    [Fact]
    public void AnErrorOnTheMpiThread_ReachesTheCallerWithItsType()
    {
        using var dispatcher = new MpiDispatcher();
        dispatcher.Adopt(ThreadLevel.Funneled);

        var error = Assert.Throws<MpiException>(() => dispatcher.Run(() => throw new MpiException("boom", "MPI_Test", 5)));

        Assert.Equal("MPI_Test", error.Function);
        Assert.Equal(7, dispatcher.Run(() => 7));
    }
}

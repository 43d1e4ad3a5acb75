using System.Diagnostics;
using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;

namespace CapCluster.Integration.Tests;

/// <summary>Leaving never waits on the engines' work: a client disposed with calls in flight lets go of them at once.</summary>
public sealed class ClientDisposalTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Far longer than any disposal may take, so that a disposal that waits for it shows.</summary>
    private const int SleepMilliseconds = 60_000;

    [Fact]
    public async Task Dispose_WithAnExecuteRunningOnTheEngine_ReturnsWithinSeconds_AndTheCallFailsSayingTheClientWasDisposed()
    {
        await using var cluster = await RunningCluster.StartAsync(2);
        var mec = await cluster.ConnectAnotherAsync();
        var sleeping = mec.ExecuteAsync($"System.Threading.Thread.Sleep({SleepMilliseconds});", [0]);
        await WaitUntilRunningAsync(cluster.Client, 0);

        var clock = Stopwatch.StartNew();
        await mec.DisposeAsync().AsTask().WaitAsync(Timeout);
        var took = clock.Elapsed;

        var error = await Assert.ThrowsAsync<ObjectDisposedException>(() => sleeping.GetAsync(Timeout));
        Assert.True(took < TimeSpan.FromSeconds(10), $"DisposeAsync took {took} with an execute running on engine 0");
        Assert.Contains("disposed", error.Message, StringComparison.Ordinal);
        Assert.Contains("engine(s) 0", error.Message, StringComparison.Ordinal);

        // The engine goes on with the call, and the cluster serves other clients meanwhile.
        var other = await cluster.Client.ExecuteAsync("1", [1]).GetAsync(Timeout);
        Assert.Equal(1, Assert.Single(other).EngineId);
    }

    [Fact]
    public async Task Dispose_WithCallsInFlightOnEveryEngine_AndOneWaitedOnByACancelledToken_EndsEveryAwaiter()
    {
        await using var cluster = await RunningCluster.StartAsync(2);
        var mec = await cluster.ConnectAnotherAsync();

        // What the console does: one call per engine, the wait for them stopped by Ctrl-C, then Ctrl-D.
        var calls = new[] { 0, 1 }.Select(id => mec.ExecuteAsync($"System.Threading.Thread.Sleep({SleepMilliseconds});", [id])).ToList();
        await WaitUntilRunningAsync(cluster.Client, 0);
        await WaitUntilRunningAsync(cluster.Client, 1);
        using var interrupted = new CancellationTokenSource();
        var waiting = mec.ExecuteAsync("1", [0], interrupted.Token);
        await waiting.WaitForSendAsync().WaitAsync(Timeout);
        await interrupted.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.GetAsync(Timeout));

        var clock = Stopwatch.StartNew();
        await mec.DisposeAsync().AsTask().WaitAsync(Timeout);
        var took = clock.Elapsed;

        Assert.True(took < TimeSpan.FromSeconds(10), $"DisposeAsync took {took} with executes running on engines 0 and 1");
        foreach (var call in calls)
        {
            await Assert.ThrowsAsync<ObjectDisposedException>(() => call.GetAsync(Timeout));
        }

        // A call made after disposal is refused at once.
        await Assert.ThrowsAsync<ObjectDisposedException>(() => mec.ExecuteAsync("1").GetAsync(Timeout));
    }

    private static async Task WaitUntilRunningAsync(MultiEngineClient observer, int engineId)
    {
        var clock = Stopwatch.StartNew();
        while ((await observer.QueueStatusAsync([engineId]).WaitAsync(Timeout)).Single().Running == 0)
        {
            if (clock.Elapsed > Timeout)
            {
                throw new TimeoutException($"engine {engineId} did not start the call within {Timeout}");
            }

            await Task.Delay(50);
        }
    }
}

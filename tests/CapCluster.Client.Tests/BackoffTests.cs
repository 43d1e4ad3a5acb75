using CapCluster.Connection;
using Microsoft.Extensions.Time.Testing;

namespace CapCluster.Client.Tests;

/// <summary>
/// The reconnection backoff on a fake clock: waits double from FirstDelay up to MaxDelay, the last one ends at the
/// timeout, then it gives up; a controller that answered starts a new series.
/// </summary>
public sealed class BackoffTests
{
    private readonly FakeTimeProvider time = new();

    /// <summary>Takes every wait the backoff asks for, on the fake clock, until it gives up.</summary>
    private List<TimeSpan> WaitUntilItGivesUp(Backoff backoff)
    {
        var waits = new List<TimeSpan>();
        while (backoff.Next() is { } wait)
        {
            waits.Add(wait);
            time.Advance(wait);
            Assert.True(waits.Count < 1000, "the backoff never gave up");
        }

        return waits;
    }

    [Fact]
    public void Waits_DoubleUpToTheMaximum_AndTheLastEndsAtTheTimeout()
    {
        var options = new ReconnectOptions { FirstDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1), Timeout = TimeSpan.FromSeconds(5) };
        var backoff = new Backoff(options, time);

        var waits = WaitUntilItGivesUp(backoff);

        Assert.Equal(
            [100, 200, 400, 800, 1000, 1000, 1000, 500],
            waits.Select(w => (int)w.TotalMilliseconds));
        Assert.Equal(TimeSpan.FromSeconds(5), backoff.Waited);
    }

    [Fact]
    public void TimeSpentBetweenAttempts_CountsTowardsTheTimeout()
    {
        var backoff = new Backoff(new ReconnectOptions { Timeout = TimeSpan.FromSeconds(10) }, time);
        Assert.Equal(TimeSpan.FromMilliseconds(100), backoff.Next());

        time.Advance(TimeSpan.FromSeconds(9.95)); // an attempt that took long to fail

        Assert.Equal(TimeSpan.FromMilliseconds(50), backoff.Next());
        time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Null(backoff.Next());
    }

    [Fact]
    public void Reset_StartsANewSeries_FromTheFirstDelay()
    {
        var backoff = new Backoff(new ReconnectOptions { Timeout = TimeSpan.FromMinutes(1) }, time);
        backoff.Next();
        time.Advance(TimeSpan.FromSeconds(30));
        backoff.Next();

        backoff.Reset();
        time.Advance(TimeSpan.FromSeconds(45));

        Assert.Equal(TimeSpan.Zero, backoff.Waited);
        Assert.Equal(TimeSpan.FromMilliseconds(100), backoff.Next());
    }

    [Fact]
    public void ReconnectionOff_GivesUpAtOnce()
    {
        var backoff = new Backoff(ReconnectOptions.Never, time);

        Assert.Null(backoff.Next());
    }
}

using CapCluster.Connection.Internal;

namespace CapCluster.Connection;

/// <summary>
/// The waits between attempts to reach a controller that went away: doubling from <see cref="ReconnectOptions.FirstDelay"/>
/// up to <see cref="ReconnectOptions.MaxDelay"/>, until <see cref="ReconnectOptions.Timeout"/> has passed since the first.
/// <see cref="ControllerConnection"/> waits so between calls; a long-lived stream that is opened again (a client's task
/// stream) waits so between openings.
/// </summary>
public sealed class Backoff(ReconnectOptions options, TimeProvider time)
{
    private long? since;
    private TimeSpan delay = options.FirstDelay;

    /// <summary>How long the attempts have been failing.</summary>
    public TimeSpan Waited => since is { } start ? time.GetElapsedTime(start) : TimeSpan.Zero;

    /// <summary>The controller answered: the next failure starts a new series.</summary>
    public void Reset()
    {
        since = null;
        delay = options.FirstDelay;
    }

    /// <summary>The wait before the next attempt, or null when the timeout has passed (or reconnection is off).</summary>
    public TimeSpan? Next()
    {
        if (options.Timeout <= TimeSpan.Zero)
        {
            return null;
        }

        var now = time.GetTimestamp();
        since ??= now;
        var waited = time.GetElapsedTime(since.Value, now);
        if (waited >= options.Timeout)
        {
            return null;
        }

        // The last wait ends at the deadline, so giving up comes on time.
        var next = Min(delay, options.Timeout - waited);
        delay = Min(delay * 2, options.MaxDelay);
        return next;
    }

    /// <summary>The error for a caller after the attempts ran out: <paramref name="last"/> itself when reconnection is off.</summary>
    public Exception GaveUp(Exception last, ControllerConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return options.Timeout <= TimeSpan.Zero ? last : ConnectionErrors.GaveUp(last, Waited, connection.Capability, connection.CapabilityPath);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

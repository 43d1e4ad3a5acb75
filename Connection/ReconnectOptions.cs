using CapCluster.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CapCluster.Connection;

/// <summary>
/// How a client whose controller went away reconnects: a call that cannot reach the controller is tried again with
/// backoff (the delay doubling from <see cref="FirstDelay"/> up to <see cref="MaxDelay"/>) until
/// <see cref="Timeout"/> has passed since the first failure, then fails with <see cref="ControllerUnreachableException"/>.
/// Only calls that never reached the controller are tried again; one that was sent and lost its connection fails at
/// once, saying the connection was lost, since the controller may have acted on it.
/// </summary>
public sealed class ReconnectOptions
{
    /// <summary>How long to keep trying to reach the controller. Default 2 minutes; <see cref="TimeSpan.Zero"/> never retries.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The first wait between attempts. Default 100 ms.</summary>
    public TimeSpan FirstDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between attempts. Default 2 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Where the client logs what happens to its connection (category <c>CapCluster.Client</c>): the controller out of
    /// reach, each attempt to reach it again (debug level), reaching it again or giving up, task streams and sessions
    /// lost and reopened. Default <see cref="NullLoggerFactory.Instance"/>: no logging.
    /// </summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>
    /// Told, for a person watching, when a call starts waiting for a controller that is out of reach (where it is, and how
    /// long the call keeps trying); disposing what it returns says that the wait ended: the controller answered, the call
    /// gave up, or it was cancelled. Calls that wait at the same time are each told. Default null: nothing is told beyond
    /// the log.
    /// </summary>
    public Func<ReconnectWait, IDisposable>? Waiting { get; set; }

    /// <summary>Fail at once when the controller cannot be reached (the behaviour before reconnection existed).</summary>
    public static ReconnectOptions Never => new() { Timeout = TimeSpan.Zero };

    /// <summary>
    /// For a person waiting at a prompt (<c>capcluster console</c>, a notebook): keep trying for 10 s, long enough for a
    /// controller restarted with <c>capcontroller --reuse</c> to be back, short enough that a controller that is down
    /// is reported (with what to do about it) while the user still waits for an answer, rather than after 2 minutes.
    /// </summary>
    public static ReconnectOptions Interactive => new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Checks the values; a bad one gets an error naming it.</summary>
    /// <exception cref="CapClusterException">A value is out of range.</exception>
    public void Validate()
    {
        if (LoggerFactory is null)
        {
            throw new CapClusterException("ReconnectOptions.LoggerFactory must not be null (NullLoggerFactory.Instance logs nothing)");
        }

        if (Timeout < TimeSpan.Zero)
        {
            throw new CapClusterException($"ReconnectOptions.Timeout must not be negative (it is {Timeout})");
        }

        if (FirstDelay <= TimeSpan.Zero || MaxDelay < FirstDelay)
        {
            throw new CapClusterException($"ReconnectOptions: FirstDelay ({FirstDelay}) must be positive and MaxDelay ({MaxDelay}) at least FirstDelay");
        }
    }
}

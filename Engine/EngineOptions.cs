using CapCluster.Security;

namespace CapCluster.Engine;

/// <summary>What <c>capengine</c> can be told; defaults are the values below.</summary>
public sealed class EngineOptions
{
    /// <summary>The engine capability; null (the default) uses the profile's security folder's engine.cap.</summary>
    public string? CapFile { get; set; }

    /// <summary>Profile name; null is the default profile.</summary>
    public string? Profile { get; set; }

    /// <summary>Log folder override; null uses the profile's.</summary>
    public string? LogFolder { get; set; }

    /// <summary>First wait before reconnecting after the controller went away. Default 100 ms; doubles up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan FirstReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait between reconnection attempts. Default 2 s.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long an engine keeps trying to reach a controller it cannot reach (at start, or after losing it) before it
    /// gives up and exits with <see cref="ControllerGoneException.ExitCode"/>. Default 5 minutes: long enough for a
    /// controller to be restarted on its pinned ports, short enough that engines left behind by a dead one go away.
    /// </summary>
    public TimeSpan ControllerTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The pid of a controller still starting: the engine waits until it has written its state (and so its capability
    /// files) in the profile's security folder, for up to <see cref="ControllerTimeout"/>, and fails at once if it
    /// exits first. Null (the default) connects with the capability as it is.
    /// </summary>
    public int? ControllerPid { get; set; }

    /// <summary>
    /// A pipe the engine inherited from whoever started it (<c>capcluster start</c>): once registered, the engine writes
    /// its id and a newline to it and closes it. Null (the default): none.
    /// </summary>
    public int? NotifyFd { get; set; }

    /// <summary>Heartbeat period used until the controller says its own. Default 1 s.</summary>
    public TimeSpan HeartbeatPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Initialise MPI before any user code (the engine was started by mpirun). Default false.</summary>
    public bool Mpi { get; set; }

    /// <summary>The id to ask for at first registration (an MPI engine asks for its rank); null lets the controller choose.</summary>
    public int? PreferredId { get; set; }

    /// <summary>Engine properties announced at registration (e.g. mpi.rank).</summary>
    public IDictionary<string, string> Properties { get; } = new Dictionary<string, string>();

    /// <summary>Checks the options; a bad value gets an error naming the option.</summary>
    /// <exception cref="CapClusterException">An option is out of range.</exception>
    public void Validate()
    {
        if (ControllerTimeout <= TimeSpan.Zero)
        {
            throw new CapClusterException($"--controller-timeout must be positive (it is {ControllerTimeout.TotalSeconds} s)");
        }

        if (FirstReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < FirstReconnectDelay)
        {
            throw new CapClusterException("the reconnect delays must be positive, the longest at least the first");
        }

        if (NotifyFd is < 3)
        {
            throw new CapClusterException($"--notify-fd must be an inherited descriptor above 2, not {NotifyFd} (0 to 2 are the engine's standard input and output)");
        }
    }
}

namespace CapCluster.Protocol;

/// <summary>
/// How many connections a server admits and how long it waits for a peer to prove itself. A peer that holds no
/// capability can only ever be refused, so it gets little of anything: it cannot fill a port, hold slots that
/// engines and clients need, or keep a connection open for long. Every limit here is refused with its name and
/// audited (aggregated per peer and reason).
/// </summary>
public sealed record ConnectionLimits
{
    /// <summary>Open connections from one remote address, per port. Default 256 (an engine host with many engines, a client with a lane per engine).</summary>
    public int MaxPerAddress { get; init; } = 256;

    /// <summary>Open connections in all, per port. Default 4096.</summary>
    public int MaxTotal { get; init; } = 4096;

    /// <summary>Time from accepting a connection to the end of its TLS handshake. Default 5 s.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a connection that presented no client certificate is kept: every call on it is refused, and it is
    /// closed after its first refusal or after this time, whichever comes first. Default 5 s.
    /// </summary>
    public TimeSpan CertificateLessTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Time from accepting a data-port connection to the whole of its lane preamble (an absolute deadline, not per read). Default 5 s.</summary>
    public TimeSpan PreambleTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Data-port connections from one remote address still waiting for their preamble. Default 8.</summary>
    public int MaxWaitingPerAddress { get; init; } = 8;

    /// <summary>Data-port connections waiting for their preamble in all (each holds a thread). Default 64.</summary>
    public int MaxWaiting { get; init; } = 64;

    /// <summary>Connections waiting for their preamble on the local hand-over socket, a budget of its own. Default 64.</summary>
    public int MaxWaitingLocal { get; init; } = 64;

    /// <summary>Checks the limits and says which is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is below 1, or a time not positive.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPerAddress, 1, nameof(MaxPerAddress));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTotal, 1, nameof(MaxTotal));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxWaitingPerAddress, 1, nameof(MaxWaitingPerAddress));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxWaiting, 1, nameof(MaxWaiting));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxWaitingLocal, 1, nameof(MaxWaitingLocal));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HandshakeTimeout, TimeSpan.Zero, nameof(HandshakeTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CertificateLessTimeout, TimeSpan.Zero, nameof(CertificateLessTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PreambleTimeout, TimeSpan.Zero, nameof(PreambleTimeout));
    }
}

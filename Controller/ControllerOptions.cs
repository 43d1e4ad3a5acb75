using System.Net;
using CapCluster.Protocol;
using CapCluster.Security;

namespace CapCluster.Controller;

/// <summary>
/// Everything <c>capcontroller</c> can be told. Defaults are the values below;
/// <see cref="Validate"/> runs at start-up.
/// </summary>
public sealed class ControllerOptions
{
    /// <summary>Port engines connect to; 0 (the default) picks a random free port.</summary>
    public int EnginePort { get; set; }

    /// <summary>Port clients connect to; 0 (the default) picks a random free port.</summary>
    public int ClientPort { get; set; }

    /// <summary>
    /// Port of the data lanes (bulk pushes and pulls between a client and an engine, spliced end to end);
    /// 0 (the default) picks a random free port. Clients and engines learn it from the controller.
    /// </summary>
    public int DataPort { get; set; }

    /// <summary>
    /// Listen on a local Unix socket: an engine on this host is handed the client's own connection for each data lane,
    /// so the lane's bytes skip the controller, and a client or engine of this process's uid joins its stream lanes
    /// there, without TLS; engines elsewhere join on <see cref="DataPort"/> and are spliced, and streams from elsewhere
    /// run TLS there. Default true (on Linux; elsewhere every lane is spliced and every stream runs TLS).
    /// </summary>
    public bool LaneHandoff { get; set; } = true;

    /// <summary>Address to listen on. Default 127.0.0.1: only this machine can connect.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// Host names or addresses written into the .cap files, in the order clients try them.
    /// Empty (the default) means the listen address, or this host's name when listening on all interfaces.
    /// </summary>
    public IList<string> Locations { get; set; } = [];

    /// <summary>Profile name; null is the default profile.</summary>
    public string? Profile { get; set; }

    /// <summary>Security folder override; null uses the profile's.</summary>
    public string? SecurityFolder { get; set; }

    /// <summary>Log folder override; null uses the profile's.</summary>
    public string? LogFolder { get; set; }

    /// <summary>Take the ports of the last run when none are given. Default false.</summary>
    public bool Reuse { get; set; }

    /// <summary>How often engines must send a heartbeat. Default 1 s.</summary>
    public TimeSpan HeartbeatPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Heartbeats an engine may miss before it is unregistered. Default 5.</summary>
    public int AllowedHeartbeatMisses { get; set; } = 5;

    /// <summary>
    /// How often the running controller re-reads the capability registry for changes furlgen made (new attenuated
    /// capabilities, revocations) and closes the connections of revoked or expired capabilities. Default 250 ms.
    /// </summary>
    public TimeSpan RegistryPollPeriod { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a connected engine has to send its registration before its stream is refused. Default 10 s.</summary>
    public TimeSpan EngineRegistrationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the two ends of a granted data or stream lane have to join it on the data port; a grant not joined by
    /// then is dropped, refused and audited. Default 10 s.
    /// </summary>
    public TimeSpan LaneJoinTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Lifetime of the server certificate issued at each start. Default 365 days.</summary>
    public TimeSpan ServerCertificateLifetime { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Largest message accepted from a client or engine. Default 64 MiB.</summary>
    public int MaxMessageSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// Refusals from one peer address for one reason, and accepted connections and privileged calls of one capability
    /// from one address, are written to the audit log once per interval with their count, instead of once each (the
    /// first at once, the rest when the interval ends). Default 10 s; zero writes each one. See
    /// <see cref="AuditLogOptions.AggregationInterval"/>.
    /// </summary>
    public TimeSpan AuditAggregationInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Keys (peer, call, reason, holder) the audit log aggregates per interval; events beyond them are counted together. Default 256.</summary>
    public int AuditMaxAggregationKeys { get; set; } = 256;

    /// <summary>
    /// The size past which the live audit log is sealed into a read-only segment and continued in a new file, so that a
    /// start verifies at most this much of the log (<c>furlgen audit --verify</c> verifies all of it). Default 1 MiB;
    /// 0 never seals. See <see cref="AuditLogOptions.SegmentBytes"/>.
    /// </summary>
    public long AuditSegmentBytes { get; set; } = new AuditLogOptions().SegmentBytes;

    /// <summary>
    /// Keep the task farm's tasks and results in a journal (SQLite, WAL) so that a controller restarted on the same
    /// folders resumes them. Default true; false keeps them in memory only (they are lost with the controller).
    /// </summary>
    public bool Journal { get; set; } = true;

    /// <summary>How the task farm batches, how many finished results it keeps, how long GetResults may wait. See <see cref="TaskFarmOptions"/> for each default.</summary>
    public TaskFarmOptions Tasks { get; set; } = new();

    /// <summary>Folder of the task journal; null (the default) is <c>&lt;profile&gt;/tasks</c>.</summary>
    public string? JournalFolder { get; set; }

    /// <summary>
    /// fsync the journal at every commit, so that accepted tasks survive a power loss too, at the cost of a disk
    /// flush per group commit. Default false: the journal survives a killed controller (what it was made for) and
    /// a power loss may take the last commits.
    /// </summary>
    public bool JournalSyncEveryCommit { get; set; }

    /// <summary>
    /// Connections admitted on each port (per remote address and in all), and how long a peer has to complete its TLS
    /// handshake, present a client certificate, or send a data lane's preamble. See <see cref="ConnectionLimits"/> for each default.
    /// </summary>
    public ConnectionLimits Limits { get; set; } = new();

    /// <summary>Data lanes granted and open at once per capability (a lane per engine it pushes to or pulls from). Default 256.</summary>
    public int MaxLanesPerCapability { get; set; } = 256;

    /// <summary>
    /// Calls in progress at once per client capability: a GetResults or ListEngines waiting, a session or task stream
    /// open. Beyond it a call is refused (RESOURCE_EXHAUSTED, audited). Engines are not counted. Default 512.
    /// </summary>
    public int MaxCallsPerCapability { get; set; } = 512;

    /// <summary>Data lanes granted and open at once in all. Default 4096.</summary>
    public int MaxLanes { get; set; } = 4096;

    /// <summary>
    /// User ids, besides the controller's own, whose engines may join lanes on the local hand-over socket (the
    /// kernel vouches for a peer's uid). Default none: only engines running as the controller's user.
    /// </summary>
    public IList<uint> HandoffUids { get; set; } = [];

    /// <summary>The most data one MultiEngine call may carry (a push's values). Default 4 GiB.</summary>
    public long MaxCallBytes { get; set; } = 4L << 30;

    /// <summary>
    /// The most call data one client session may have the controller hold at once (a call's chunks are held until every
    /// target engine was sent them; data on lanes does not pass the controller). Default 4 GiB.
    /// </summary>
    public long MaxSessionBytes { get; set; } = 4L << 30;

    /// <summary>The most call data the controller holds for all sessions at once. Default 8 GiB.</summary>
    public long MaxBufferedBytes { get; set; } = 8L << 30;

    /// <summary>
    /// The most calls one client session may have whose results are not all written to the client yet; past it the
    /// session's next call is not read until results are. Default 4,096.
    /// </summary>
    public int MaxSessionCalls { get; set; } = 4096;

    /// <summary>
    /// The most bytes of results one client session may have waiting for the client to read them; past it the session's
    /// next call is not read until they are, and a session whose unread refusals pass twice it is ended. Default 256 MiB.
    /// </summary>
    public long MaxUnreadBytes { get; set; } = 256L << 20;

    /// <summary>
    /// The most bytes of results all sessions of one capability together may have waiting for their clients to read
    /// them; past it their next calls are not read until they are, and a session adding unread refusals while they
    /// pass twice it is ended. A holder cannot multiply <see cref="MaxUnreadBytes"/> by opening sessions. Default 1 GiB.
    /// </summary>
    public long MaxUnreadBytesPerCapability { get; set; } = 1L << 30;

    /// <summary>Checks the options and says what is wrong.</summary>
    /// <exception cref="CapClusterException">An option is out of range.</exception>
    public void Validate()
    {
        CheckPort(EnginePort, "--engine-port");
        CheckPort(ClientPort, "--client-port");
        CheckPort(DataPort, "--data-port");
        if (DataPort != 0 && (DataPort == EnginePort || DataPort == ClientPort))
        {
            throw new CapClusterException($"--data-port {DataPort} is also the engine or client port; give it a port of its own");
        }

        if (EnginePort != 0 && EnginePort == ClientPort)
        {
            throw new CapClusterException($"--engine-port and --client-port are both {EnginePort}; give them different ports");
        }

        if (!IPAddress.TryParse(ListenAddress, out _))
        {
            throw new CapClusterException($"--ip {ListenAddress} is not an IP address (use e.g. 127.0.0.1, 0.0.0.0 or ::1)");
        }

        if (RegistryPollPeriod <= TimeSpan.Zero)
        {
            throw new CapClusterException($"the registry poll period must be positive (got {RegistryPollPeriod})");
        }

        Positive(HeartbeatPeriod, "--heartbeat-period");
        AtLeastOne(AllowedHeartbeatMisses, "--heartbeat-misses");
        AtLeastOne(Limits.MaxTotal, "--max-connections");
        AtLeastOne(Limits.MaxPerAddress, "--max-connections-per-address");
        AtLeastOne(MaxCallBytes, "--max-call-bytes");
        AtLeastOne(MaxSessionBytes, "--max-session-bytes");
        AtLeastOne(MaxBufferedBytes, "--max-buffered-bytes");
        AtLeastOne(MaxSessionCalls, "--max-session-calls");
        AtLeastOne(MaxUnreadBytes, "--max-unread-bytes");
        AtLeastOne(MaxUnreadBytesPerCapability, "--max-unread-bytes-per-capability");
        if (EngineRegistrationTimeout <= TimeSpan.Zero)
        {
            throw new CapClusterException($"the engine registration timeout ({EngineRegistrationTimeout.TotalSeconds:0.###} s) must be positive");
        }

        Positive(LaneJoinTimeout, "--lane-join-timeout");
        Tasks.Validate();
        AtLeastOne(MaxLanes, "--max-lanes");
        AtLeastOne(MaxLanesPerCapability, "--max-lanes-per-capability");
        AtLeastOne(MaxCallsPerCapability, "--max-calls-per-capability");
        if (AuditAggregationInterval < TimeSpan.Zero || AuditAggregationInterval > TimeSpan.FromHours(1))
        {
            throw new CapClusterException($"--audit-interval ({AuditAggregationInterval.TotalSeconds:0.###} s) must be from 0 to 3600 (0: one audit record each)");
        }

        if (AuditSegmentBytes < 0)
        {
            throw new CapClusterException($"--audit-segment-bytes ({AuditSegmentBytes}) must be 0 (never sealed) or more");
        }

        try
        {
            Limits.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CapClusterException($"connection limits: {e.Message}", e);
        }

        try
        {
            AuditLog().Validate();
        }
        catch (ArgumentException e)
        {
            throw new CapClusterException($"the audit log's options: {e.Message}", e);
        }
    }

    /// <summary>How the controller writes its audit log, from these options.</summary>
    internal AuditLogOptions AuditLog() => new()
    {
        AggregationInterval = AuditAggregationInterval,
        MaxAggregationKeys = AuditMaxAggregationKeys,
        SegmentBytes = AuditSegmentBytes,
        PendingPoll = RegistryPollPeriod,
    };

    private static void AtLeastOne(long value, string name)
    {
        if (value < 1)
        {
            throw new CapClusterException($"{name} ({value}) must be at least 1");
        }
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new CapClusterException($"{name} ({value.TotalSeconds:0.###} s) must be more than 0");
        }
    }

    private static void CheckPort(int port, string name)
    {
        if (port is < 0 or > 65535)
        {
            throw new CapClusterException($"{name} {port} is not a port (0 for random, or 1-65535)");
        }
    }
}

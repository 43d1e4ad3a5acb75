using CapCluster.Client.Internal;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Client;

/// <summary>
/// Explicit control of every engine, through a multiengine capability.
/// </summary>
/// <example>
/// <code>
/// await using var mec = await MultiEngineClient.ConnectAsync();   // ~/.capcluster/security/multiengine.cap
/// var ids = await mec.GetIdsAsync();                              // [0, 1, 2, 3]
/// </code>
/// </example>
public sealed partial class MultiEngineClient : IAsyncDisposable
{
    // How long one ListEngines call of WaitForEnginesAsync may wait for a change before it is asked again.
    private static readonly TimeSpan ListWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ListRetryDelay = TimeSpan.FromMilliseconds(20);

    private readonly ControllerConnection connection;
    private readonly ClientSession session;
    private int disposed;

    private MultiEngineClient(ControllerConnection connection)
    {
        this.connection = connection;
        session = new ClientSession(connection);
    }

    /// <summary>The engines calls go to when a call names none; null (the default) means every engine.</summary>
    public IReadOnlyList<int>? Targets { get; set; }

    /// <summary>The capability file this client uses.</summary>
    public string CapabilityPath => connection.CapabilityPath;

    /// <summary>
    /// Connects with the multiengine capability at <paramref name="capFile"/>, or, when null, the default
    /// security folder's multiengine.cap, and checks that the controller accepts it.
    /// </summary>
    /// <exception cref="CapabilityNotFoundException">No .cap file found; the message lists where it looked.</exception>
    /// <exception cref="CapabilityFileException">The file is malformed or was edited.</exception>
    /// <exception cref="ControllerUnreachableException">No controller answers at the file's locations.</exception>
    /// <exception cref="CapabilityRefusedException">The controller refused the capability, with the gate's reason.</exception>
    public static Task<MultiEngineClient> ConnectAsync(string? capFile = null, CancellationToken cancellationToken = default)
        => ConnectAsync(capFile, new ReconnectOptions(), cancellationToken);

    /// <summary>
    /// As <see cref="ConnectAsync(string?, CancellationToken)"/>, with how to reconnect when the controller goes away
    /// (the other overload uses the defaults of <see cref="ReconnectOptions"/>: keep trying for 2 minutes).
    /// </summary>
    public static Task<MultiEngineClient> ConnectAsync(string? capFile, ReconnectOptions reconnect, CancellationToken cancellationToken = default)
        => ControllerConnection.ConnectAsync(
            capFile, CapabilityInterfaces.MultiEngine, c => new MultiEngineClient(c), reconnect, cancellationToken);

    /// <summary>The ids of the registered engines, ascending.</summary>
    public async Task<IReadOnlyList<int>> GetIdsAsync(CancellationToken cancellationToken = default)
    {
        var reply = await connection.CallAsync(o => connection.MultiEngine.GetIdsAsync(new GetIdsRequest(), o), cancellationToken, idempotent: true).ConfigureAwait(false);
        return [.. reply.Ids];
    }

    /// <summary>Every registered engine with its host, pid, state and last heartbeat.</summary>
    public async Task<IReadOnlyList<EngineStatus>> GetEnginesAsync(CancellationToken cancellationToken = default)
    {
        var reply = await connection.CallAsync(o => connection.MultiEngine.ListEnginesAsync(new ListEnginesRequest(), o), cancellationToken, idempotent: true).ConfigureAwait(false);
        return Statuses(reply);
    }

    /// <summary>
    /// Shows <paramref name="until"/> the registered engines now and again each time an engine registers or unregisters,
    /// until it returns true; returns that list. The controller answers as soon as the set changes (no polling), so a
    /// registration is seen at once. Cancel <paramref name="cancellationToken"/> to bound the wait.
    /// </summary>
    public async Task<IReadOnlyList<EngineStatus>> WaitForEnginesAsync(Func<IReadOnlyList<EngineStatus>, bool> until, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(until);
        var request = new ListEnginesRequest();
        while (true)
        {
            var reply = await connection.CallAsync(o => connection.MultiEngine.ListEnginesAsync(request, o), cancellationToken, idempotent: true).ConfigureAwait(false);
            var engines = Statuses(reply);
            if (until(engines))
            {
                return engines;
            }

            if (reply.Version == 0)
            {
                // A controller that does not count changes answers at once: ask again shortly rather than in a loop.
                await Task.Delay(ListRetryDelay, cancellationToken).ConfigureAwait(false);
            }

            request = new ListEnginesRequest { ChangedSince = reply.Version, WaitMs = (int)ListWait.TotalMilliseconds };
        }
    }

    private static IReadOnlyList<EngineStatus> Statuses(ListEnginesReply reply) =>
        [.. reply.Engines.Select(e => new EngineStatus(
            e.Id,
            e.Host,
            e.Pid,
            e.State,
            DateTimeOffset.FromUnixTimeMilliseconds(e.RegisteredUnixMs),
            DateTimeOffset.FromUnixTimeMilliseconds(e.LastHeartbeatUnixMs),
            e.QueueLength,
            e.Completed,
            e.Cores,
            e.Version,
            e.Properties.ToDictionary(),
            e.Serves.Length == 0 ? null : e.Serves))];

    /// <summary>
    /// Sends a ping through each target engine's queue (all engines when <paramref name="targets"/> is null)
    /// and returns the id of each engine that answered, in target order.
    /// </summary>
    public async Task<IReadOnlyList<int>> PingAsync(IEnumerable<int>? targets = null, CancellationToken cancellationToken = default)
    {
        var request = new PingRequest { Targets = ToTargets(targets) };
        var reply = await connection.CallAsync(o => connection.MultiEngine.PingAsync(request, o), cancellationToken).ConfigureAwait(false);
        return [.. reply.Pongs.Select(p => p.EngineId)];
    }

    /// <summary>
    /// Stops the target engines (all when <paramref name="targets"/> is null) and, when
    /// <paramref name="controller"/> is true, the controller after them. Returns the ids stopped.
    /// </summary>
    public async Task<IReadOnlyList<int>> KillAsync(IEnumerable<int>? targets = null, bool controller = false, CancellationToken cancellationToken = default)
    {
        var request = new KillRequest { Targets = ToTargets(targets), Controller = controller };
        var reply = await connection.CallAsync(o => connection.MultiEngine.KillAsync(request, o), cancellationToken).ConfigureAwait(false);
        return [.. reply.Killed];
    }

    /// <inheritdoc />
    /// <remarks>A second call does nothing.</remarks>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        await session.DisposeAsync().ConfigureAwait(false);
        connection.Dispose();
    }

    private static Targets ToTargets(IEnumerable<int>? ids) => ids is null ? new Targets() : new Targets { Ids = { ids } };
}

using CapCluster.Protocol;
using CapCluster.Protocol.DataLanes;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Client.Internal.Transport;

/// <summary>A lane this client holds: the id the controller granted, and the open connection.</summary>
internal sealed record GrantedLane(byte[] Id, LaneConnection Connection);

/// <summary>
/// Chooses how each MultiEngine call's values travel (<see cref="CallRoute"/>), and holds what the routes need: this
/// client's data lanes, one per engine, opened on first use and kept while they stay up. A lane that cannot be had
/// (the data port unreachable, the capability may not push or pull) is not asked for again for a while; calls then
/// carry their values in the session instead.
/// </summary>
internal sealed class CallRoutes(ControllerConnection connection) : IAsyncDisposable
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);

    private readonly Lock sync = new();
    private readonly Dictionary<int, (Task<GrantedLane?> Lane, DateTimeOffset Asked)> lanes = [];
    private readonly CancellationTokenSource lifetime = new();

    /// <summary>Pushes carrying at least this many blob bytes go by data lanes. 1 MiB.</summary>
    internal const long Threshold = 1 << 20;

    /// <summary>
    /// The route a call takes, with its targets made explicit when the route names them: a bulk push goes by data lanes
    /// only when every target has one; a pull uses those that can be had (the engine answers on one only when its values
    /// carry blobs). Otherwise the call goes as it is, its values in the session (<see cref="CallRoute.InSession"/>).
    /// </summary>
    public async Task<(IReadOnlyList<int>? Targets, CallRoute Route)> ChooseAsync(
        IReadOnlyList<int>? targets, EngineRequest request, IReadOnlyList<ReadOnlyMemory<byte>> blobs, CancellationToken cancellationToken)
    {
        var push = request.KindCase == EngineRequest.KindOneofCase.Push && blobs.Sum(b => (long)b.Length) >= Threshold;
        if (!push && request.KindCase != EngineRequest.KindOneofCase.Pull)
        {
            return (targets, CallRoute.InSession);
        }

        var chosen = targets ?? [.. (await connection.CallAsync(o => connection.MultiEngine.GetIdsAsync(new GetIdsRequest(), o), cancellationToken, idempotent: true).ConfigureAwait(false)).Ids];
        var granted = await Task.WhenAll(chosen.Distinct().Select(async id => (Id: id, Lane: await GetAsync(id, cancellationToken).ConfigureAwait(false)))).ConfigureAwait(false);
        var usable = granted.Where(g => g.Lane is not null).ToDictionary(g => g.Id, g => g.Lane!);
        if (usable.Count == 0 || (push && usable.Count < granted.Length))
        {
            return (targets, CallRoute.InSession);
        }

        return (chosen, new LaneRoute(usable, push));
    }

    /// <summary>The open lane to <paramref name="engineId"/>, or null when none can be had now.</summary>
    public async Task<GrantedLane?> GetAsync(int engineId, CancellationToken cancellationToken)
    {
        Task<GrantedLane?> lane;
        lock (sync)
        {
            if (!lanes.TryGetValue(engineId, out var entry) || Stale(entry))
            {
                entry = (OpenAsync(engineId), connection.Time.GetUtcNow());
                lanes[engineId] = entry;
            }

            lane = entry.Lane;
        }

        return await lane.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await lifetime.CancelAsync().ConfigureAwait(false);
        List<Task<GrantedLane?>> open;
        lock (sync)
        {
            open = [.. lanes.Values.Select(e => e.Lane)];
            lanes.Clear();
        }

        foreach (var lane in open)
        {
            if (await lane.ConfigureAwait(false) is { } connected)
            {
                await connected.Connection.DisposeAsync().ConfigureAwait(false);
            }
        }

        lifetime.Dispose();
    }

    private bool Stale((Task<GrantedLane?> Lane, DateTimeOffset Asked) entry) =>
        entry.Lane.IsCompleted && (entry.Lane.Result is { Connection.IsOpen: false } || (entry.Lane.Result is null && connection.Time.GetUtcNow() - entry.Asked > RetryAfter));

    private async Task<GrantedLane?> OpenAsync(int engineId)
    {
        try
        {
            var grant = await connection.CallAsync(o => connection.MultiEngine.OpenLaneAsync(new OpenLaneRequest { EngineId = engineId }, o), lifetime.Token, idempotent: true).ConfigureAwait(false);
            var options = connection.LaneOptions(grant.DataPort, grant.LaneId, LaneRole.Client, grant.EngineCertificateSha256, $"the data lane to engine {engineId}")
                with { HandoffSocket = grant.LocalSocket.Length > 0 ? grant.LocalSocket : null };
            return new GrantedLane(options.LaneId, await LaneConnection.ConnectAsync(options, lifetime.Token).ConfigureAwait(false));
        }
        catch (Exception e) when (e is CapClusterException or LaneException or OperationCanceledException)
        {
            return null;
        }
    }
}

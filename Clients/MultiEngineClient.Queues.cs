using CapCluster.Protocol;
using CapCluster.Protocol.V1;

namespace CapCluster.Client;

/// <summary>The engines' queues and properties.</summary>
public sealed partial class MultiEngineClient
{
    /// <summary>Each target engine's queue: waiting, running, done.</summary>
    public async Task<IReadOnlyList<EngineQueueStatus>> QueueStatusAsync(IEnumerable<int>? targets = null, CancellationToken cancellationToken = default)
    {
        var request = new EngineQueuesRequest { Targets = ToTargets(targets ?? Targets) };
        var reply = await connection.CallAsync(o => connection.MultiEngine.EngineQueuesAsync(request, o), cancellationToken, idempotent: true).ConfigureAwait(false);
        return [.. reply.Queues.Select(q => new EngineQueueStatus(q.EngineId, q.Queued, q.Running, q.Completed))];
    }

    /// <summary>
    /// Drops the calls still waiting in the target engines' queues that were made with this capability or one derived from
    /// it (their callers get <see cref="EngineLostException"/>), not another holder's; returns how many.
    /// </summary>
    public async Task<int> ClearQueueAsync(IEnumerable<int>? targets = null, CancellationToken cancellationToken = default)
    {
        var request = new ClearQueueRequest { Targets = ToTargets(targets ?? Targets) };
        return (await connection.CallAsync(o => connection.MultiEngine.ClearQueueAsync(request, o), cancellationToken).ConfigureAwait(false)).Cleared;
    }

    /// <summary>Sets engine properties (e.g. "gpu" = "yes") on the target engines; returns each engine's properties after.</summary>
    public AsyncResult<IReadOnlyDictionary<int, IReadOnlyDictionary<string, string>>> SetPropertiesAsync(IReadOnlyDictionary<string, string> properties, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        Properties(new PropertiesRequest { Set = new PropertyMap { Values = { properties.ToDictionary() } } }, targets, cancellationToken);

    /// <summary>The target engines' properties (only <paramref name="names"/> when given).</summary>
    public AsyncResult<IReadOnlyDictionary<int, IReadOnlyDictionary<string, string>>> GetPropertiesAsync(IEnumerable<string>? names = null, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default)
    {
        var wanted = names?.ToHashSet();
        return Properties(new PropertiesRequest { Get = new PropertyNames() }, targets, cancellationToken, wanted);
    }

    /// <summary>Whether each target engine has property <paramref name="name"/>.</summary>
    public async Task<IReadOnlyDictionary<int, bool>> HasPropertyAsync(string name, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default)
    {
        var all = await GetPropertiesAsync([name], targets, cancellationToken).AsTask().ConfigureAwait(false);
        return all.ToDictionary(p => p.Key, p => p.Value.ContainsKey(name));
    }

    /// <summary>Removes properties from the target engines.</summary>
    public AsyncResult<IReadOnlyDictionary<int, IReadOnlyDictionary<string, string>>> DeletePropertiesAsync(IEnumerable<string> names, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        Properties(new PropertiesRequest { Delete = new PropertyNames { Names = { names } } }, targets, cancellationToken);

    /// <summary>Removes every property from the target engines.</summary>
    public AsyncResult<IReadOnlyDictionary<int, IReadOnlyDictionary<string, string>>> ClearPropertiesAsync(IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        Properties(new PropertiesRequest { Clear = true }, targets, cancellationToken);

    private AsyncResult<IReadOnlyDictionary<int, IReadOnlyDictionary<string, string>>> Properties(PropertiesRequest request, IEnumerable<int>? targets, CancellationToken cancellationToken, HashSet<string>? only = null) =>
        Submit<IReadOnlyDictionary<int, IReadOnlyDictionary<string, string>>>(
            targets,
            new EngineRequest { Properties = request },
            [],
            outcomes => outcomes.ToDictionary(
                o => o.EngineId,
                o => (IReadOnlyDictionary<string, string>)o.Reply!.Properties.Values.Where(p => only is null || only.Contains(p.Key)).ToDictionary()),
            cancellationToken);
}

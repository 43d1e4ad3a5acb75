using CapCluster.Protocol.Values;

namespace CapCluster.Client;

/// <summary>Scatter and gather: a sequence cut into contiguous blocks, one per engine.</summary>
public sealed partial class MultiEngineClient
{
    /// <summary>
    /// Splits <paramref name="sequence"/> (an array or list) into contiguous blocks whose sizes differ by at most one,
    /// in order, and pushes block i to the i-th target engine as <paramref name="name"/>.
    /// </summary>
    public async Task ScatterAsync(string name, object sequence, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default)
    {
        var engines = await ResolveAsync(targets, cancellationToken).ConfigureAwait(false);
        var length = sequence switch
        {
            Array array => array.Length,
            System.Collections.ICollection collection => collection.Count,
            _ => throw new ArgumentException($"scatter needs an array or a list, not {sequence.GetType()}", nameof(sequence)),
        };
        var blocks = Partition.Blocks(length, engines.Count);
        var pushes = engines.Select((engine, i) =>
            PushAsync(name, Partition.View(sequence, blocks[i].Start, blocks[i].Count), [engine], cancellationToken).AsTask());
        await Task.WhenAll(pushes).ConfigureAwait(false);
    }

    /// <summary>Pulls <paramref name="name"/> from each target engine and concatenates the blocks in target order.</summary>
    public async Task<T> GatherAsync<T>(string name, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default)
    {
        var engines = await ResolveAsync(targets, cancellationToken).ConfigureAwait(false);
        var parts = await PullAsync<object?>(name, engines, cancellationToken).AsTask().ConfigureAwait(false);
        return (T)ValueCodec.ConvertTo(Partition.Concatenate(parts), typeof(T))!;
    }

    private async Task<IReadOnlyList<int>> ResolveAsync(IEnumerable<int>? targets, CancellationToken cancellationToken)
    {
        var chosen = targets?.ToList() ?? Targets?.ToList() ?? await GetIdsAsync(cancellationToken).ConfigureAwait(false);
        return chosen.Count > 0 ? chosen : throw new EngineLostException(-1, "no engines are registered with the controller");
    }
}

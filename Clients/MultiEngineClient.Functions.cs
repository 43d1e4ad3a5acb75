using CapCluster.Client.Internal;
using CapCluster.Client.Internal.Delegates;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;
using Google.Protobuf;

namespace CapCluster.Client;

/// <summary>
/// Compiled delegates run on engines. The delegate's assembly (and the non-framework assemblies it
/// references) travels once per engine, by content hash; a closure's captured variables travel as
/// values, only those the lambda uses.
/// </summary>
public sealed partial class MultiEngineClient
{
    /// <summary>Runs <paramref name="function"/> on every target engine; one result per engine, in target order.</summary>
    public AsyncResult<IReadOnlyList<TResult>> ApplyAsync<TResult>(Func<TResult> function, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        ApplyAsync<TResult>((Delegate)function, [], targets, cancellationToken);

    /// <summary>Runs <paramref name="function"/>(<paramref name="argument"/>) on every target engine.</summary>
    public AsyncResult<IReadOnlyList<TResult>> ApplyAsync<T1, TResult>(Func<T1, TResult> function, T1 argument, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        ApplyAsync<TResult>((Delegate)function, [argument], targets, cancellationToken);

    /// <summary>Runs <paramref name="function"/>(<paramref name="first"/>, <paramref name="second"/>) on every target engine.</summary>
    public AsyncResult<IReadOnlyList<TResult>> ApplyAsync<T1, T2, TResult>(Func<T1, T2, TResult> function, T1 first, T2 second, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        ApplyAsync<TResult>((Delegate)function, [first, second], targets, cancellationToken);

    /// <summary>Runs the async <paramref name="function"/> on every target engine, which awaits it; the awaited results, in target order.</summary>
    public AsyncResult<IReadOnlyList<TResult>> ApplyAsync<TResult>(Func<Task<TResult>> function, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        ApplyAsync<TResult>((Delegate)function, [], targets, cancellationToken);

    /// <summary>Runs the async <paramref name="function"/>(<paramref name="argument"/>) on every target engine, which awaits it.</summary>
    public AsyncResult<IReadOnlyList<TResult>> ApplyAsync<T1, TResult>(Func<T1, Task<TResult>> function, T1 argument, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        ApplyAsync<TResult>((Delegate)function, [argument], targets, cancellationToken);

    /// <summary>Runs the async <paramref name="function"/>(<paramref name="first"/>, <paramref name="second"/>) on every target engine, which awaits it.</summary>
    public AsyncResult<IReadOnlyList<TResult>> ApplyAsync<T1, T2, TResult>(Func<T1, T2, Task<TResult>> function, T1 first, T2 second, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        ApplyAsync<TResult>((Delegate)function, [first, second], targets, cancellationToken);

    /// <summary>Runs any compiled delegate with <paramref name="arguments"/> on every target engine (one returning a task is awaited there).</summary>
    /// <exception cref="DelegateNotShippableException">The delegate is not a static method or a lambda.</exception>
    /// <exception cref="UnsendableValueException">A captured variable or an argument is not data (the message names it).</exception>
    public AsyncResult<IReadOnlyList<TResult>> ApplyAsync<TResult>(Delegate function, IReadOnlyList<object?> arguments, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default)
    {
        var (request, blobs, package) = ApplyRequestFor(function, arguments, map: false);
        return Submit<IReadOnlyList<TResult>>(
            targets, request, blobs,
            outcomes => [.. outcomes.Select(o => o.Values!.DecodeAs<TResult>(o.Reply!.Values.Values[0]))],
            cancellationToken,
            outcomes => ShipMissingAssembliesAsync(outcomes, request, blobs, package, cancellationToken));
    }

    /// <summary>
    /// Maps <paramref name="function"/> over <paramref name="sequence"/> on the engines: contiguous blocks, one per
    /// target engine, each mapped there; the results come back in input order.
    /// </summary>
    public Task<IReadOnlyList<TResult>> MapAsync<T, TResult>(Func<T, TResult> function, IEnumerable<T> sequence, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        MapDelegateAsync<T, TResult>(function, sequence, targets, cancellationToken);

    /// <summary>
    /// Maps the async <paramref name="function"/> over <paramref name="sequence"/> on the engines, as the synchronous
    /// overload does: each engine awaits each call; the awaited results come back in input order.
    /// </summary>
    public Task<IReadOnlyList<TResult>> MapAsync<T, TResult>(Func<T, Task<TResult>> function, IEnumerable<T> sequence, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        MapDelegateAsync<T, TResult>(function, sequence, targets, cancellationToken);

    private async Task<IReadOnlyList<TResult>> MapDelegateAsync<T, TResult>(Delegate function, IEnumerable<T> sequence, IEnumerable<int>? targets, CancellationToken cancellationToken)
    {
        var items = sequence.ToArray();
        var engines = await ResolveAsync(targets, cancellationToken).ConfigureAwait(false);
        var blocks = Partition.Blocks(items.Length, engines.Count);
        var runs = engines.Select((engine, i) =>
        {
            var (request, blobs, package) = ApplyRequestFor(function, [items[blocks[i].Start..(blocks[i].Start + blocks[i].Count)]], map: true);
            return Submit<IReadOnlyList<TResult>>(
                [engine], request, blobs,
                outcomes => outcomes[0].Values!.DecodeAs<List<TResult>>(outcomes[0].Reply!.Values.Values[0]),
                cancellationToken,
                outcomes => ShipMissingAssembliesAsync(outcomes, request, blobs, package, cancellationToken)).AsTask();
        }).ToList();
        var results = await Task.WhenAll(runs).ConfigureAwait(false);
        return [.. results.SelectMany(r => r)];
    }

    private static (EngineRequest Request, List<ReadOnlyMemory<byte>> Blobs, DelegatePackage Package) ApplyRequestFor(Delegate function, IReadOnlyList<object?> arguments, bool map)
    {
        var package = DelegatePackager.Package(function);
        var outgoing = new OutgoingValues();
        var named = package.Captured.Select(c => outgoing.Add(c.FieldName, c.Value, $"captured variable '{c.VariableName}'")).ToList();

        var call = new DelegateCall
        {
            DeclaringType = package.DeclaringTypeName,
            MethodToken = package.MethodToken,
            IsStatic = package.IsStatic,
            Captured = { named },
            Delegates = { package.DelegateMessages() },
            Assemblies = { package.Assemblies.Select(a => new AssemblyRef { Hash = a.Hash, Name = a.Name }) },
        };
        var apply = new ApplyRequest { Function = call, Map = map };
        for (var i = 0; i < arguments.Count; i++)
        {
            apply.Arguments.Add(outgoing.Add($"arg{i}", arguments[i], $"argument {i + 1}"));
        }

        return (new EngineRequest { Apply = apply }, [.. outgoing.Blobs], package);
    }

    /// <summary>Engines that lack an assembly say so; they get the same call again with those images attached.</summary>
    private async Task<IReadOnlyList<CallOutcome>> ShipMissingAssembliesAsync(
        IReadOnlyList<CallOutcome> outcomes, EngineRequest request, IReadOnlyList<ReadOnlyMemory<byte>> blobs, DelegatePackage package, CancellationToken cancellationToken)
    {
        var lacking = outcomes.Where(o => o.Reply?.KindCase == EngineReply.KindOneofCase.MissingAssemblies).ToList();
        if (lacking.Count == 0)
        {
            return outcomes;
        }

        var missing = lacking.SelectMany(o => o.Reply!.MissingAssemblies.Hashes).ToHashSet();
        var withImages = request.Clone();
        foreach (var reference in withImages.Apply.Function.Assemblies.Where(a => missing.Contains(a.Hash)))
        {
            reference.Image = UnsafeByteOperations.UnsafeWrap(package.Assemblies.First(a => a.Hash == reference.Hash).Bytes);
        }

        var retried = await session.CallAsync([.. lacking.Select(o => o.EngineId)], withImages, blobs, null, cancellationToken).ConfigureAwait(false);
        return [.. outcomes.Except(lacking), .. retried];
    }
}

using CapCluster.Client.Internal;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;

namespace CapCluster.Client;

/// <summary>Code and values in the engines' persistent namespaces.</summary>
public sealed partial class MultiEngineClient
{
    /// <summary>
    /// Runs C# <paramref name="code"/> on the target engines (default <see cref="Targets"/>, else all), in
    /// their persistent namespaces. Each result has the In/Out number, stdout, stderr and the value of a
    /// trailing expression. Awaiting throws <see cref="RemoteException"/> (one engine) or
    /// <see cref="CompositeRemoteException"/> (several) for code that failed.
    /// </summary>
    public AsyncResult<ExecuteResults> ExecuteAsync(string code, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        Submit(targets, new EngineRequest { Execute = new ExecuteRequest { Code = code } }, [], ToExecuteResults, cancellationToken);

    /// <summary>Runs the C# file at <paramref name="path"/> on the target engines, as <see cref="ExecuteAsync"/>.</summary>
    public AsyncResult<ExecuteResults> RunAsync(string path, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        Submit(
            targets,
            new EngineRequest { Execute = new ExecuteRequest { Code = File.ReadAllText(path), FileName = Path.GetFileName(path) } },
            [],
            ToExecuteResults,
            cancellationToken);

    /// <summary>
    /// Sets <paramref name="name"/> to <paramref name="value"/> in every target engine's namespace. Arrays travel
    /// as raw bytes straight from <paramref name="value"/>: do not change them before <see cref="AsyncResult{T}.Sent"/>.
    /// </summary>
    public AsyncResult<int> PushAsync(string name, object? value, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        PushAsync(new Dictionary<string, object?> { [name] = value }, targets, cancellationToken);

    /// <summary>Sets every name in <paramref name="values"/> on the target engines; the result is the number of engines.</summary>
    public AsyncResult<int> PushAsync(IReadOnlyDictionary<string, object?> values, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default)
    {
        // The trees go in the message, the large arrays' bytes as blobs.
        var outgoing = new OutgoingValues();
        var named = values.Select(v => outgoing.Add(v.Key, v.Value)).ToList();
        return Submit(targets, new EngineRequest { Push = new PushRequest { Values = { named } } }, outgoing.Blobs, o => o.Count, cancellationToken);
    }

    /// <summary>The value of <paramref name="name"/> on each target engine, converted to <typeparamref name="T"/>, in target order.</summary>
    public AsyncResult<IReadOnlyList<T>> PullAsync<T>(string name, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        Submit<IReadOnlyList<T>>(
            targets,
            new EngineRequest { Pull = new PullRequest { Names = { name } } },
            [],
            outcomes => [.. outcomes.Select(o => o.Values!.DecodeAs<T>(o.Reply!.Values.Values.Single(v => v.Name == name)))],
            cancellationToken);

    /// <summary>
    /// Interactive shorthand for all current <see cref="Targets"/>: reading pulls (one value per engine),
    /// writing pushes. It blocks the calling thread; in async code use <see cref="PullAsync{T}"/> and <see cref="PushAsync(string, object?, IEnumerable{int}?, CancellationToken)"/>.
    /// </summary>
    public object? this[string name]
    {
        get => PullAsync<object?>(name).AsTask().GetAwaiter().GetResult();
        set => PushAsync(name, value).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>The names defined in each target engine's namespace, by engine id.</summary>
    public AsyncResult<IReadOnlyDictionary<int, IReadOnlyList<string>>> KeysAsync(IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        Submit<IReadOnlyDictionary<int, IReadOnlyList<string>>>(
            targets,
            new EngineRequest { Keys = new KeysRequest() },
            [],
            outcomes => outcomes.ToDictionary(o => o.EngineId, o => (IReadOnlyList<string>)[.. o.Reply!.Keys.Keys]),
            cancellationToken);

    /// <summary>Clears the target engines' namespaces (variables, types, usings).</summary>
    public AsyncResult<int> ResetAsync(IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        Submit(targets, new EngineRequest { Reset = new ResetRequest() }, [], o => o.Count, cancellationToken);

    /// <summary>Execution <paramref name="executionCount"/> (its In number) from each target engine's history.</summary>
    public AsyncResult<ExecuteResults> GetResultAsync(int executionCount, IEnumerable<int>? targets = null, CancellationToken cancellationToken = default) =>
        Submit(targets, new EngineRequest { History = new HistoryRequest { ExecutionCount = executionCount } }, [], ToExecuteResults, cancellationToken);

    private static ExecuteResults ToExecuteResults(IReadOnlyList<CallOutcome> outcomes) =>
        new([.. outcomes.Select(o =>
        {
            var reply = o.Reply!.Execute;
            object? value = null;
            if (reply.HasValue && !reply.Value.IsEmpty)
            {
                value = ValueCodec.Decode(Value.Parser.ParseFrom(reply.Value));
            }

            return new ExecuteResult(o.EngineId, reply.ExecutionCount, reply.Code, reply.Stdout, reply.Stderr, reply.HasValue, reply.ValueText, value);
        })]);
}

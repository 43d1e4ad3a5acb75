using System.Collections;

namespace CapCluster.Client;

/// <summary>Every target engine's <see cref="ExecuteResult"/>, in target order; prints like IPython's result list.</summary>
public sealed class ExecuteResults(IReadOnlyList<ExecuteResult> results) : IReadOnlyList<ExecuteResult>
{
    /// <inheritdoc />
    public ExecuteResult this[int index] => results[index];

    /// <inheritdoc />
    public int Count => results.Count;

    /// <inheritdoc />
    public IEnumerator<ExecuteResult> GetEnumerator() => results.GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => string.Join(Environment.NewLine, results);

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

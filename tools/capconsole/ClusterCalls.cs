using CapCluster.Client;

namespace CapCluster.Repl;

/// <summary>The console's calls on a real cluster, through the same client the user's code gets as <c>mec</c>.</summary>
internal sealed class ClusterCalls(MultiEngineClient client, Func<CancellationToken, Task> showStatus) : IClusterCalls
{
    public IReadOnlyList<int>? Targets
    {
        get => client.Targets;
        set => client.Targets = value;
    }

    public Task<IReadOnlyList<int>> GetIdsAsync(CancellationToken cancellationToken) => client.GetIdsAsync(cancellationToken);

    public Task<ExecuteResults> ExecuteAsync(string code, int engineId) => client.ExecuteAsync(code, [engineId], CancellationToken.None).AsTask();

    public Task<ExecuteResults> GetResultAsync(int executionCount, int engineId) =>
        client.GetResultAsync(executionCount, [engineId], CancellationToken.None).AsTask();

    public Task ShowStatusAsync(CancellationToken cancellationToken) => showStatus(cancellationToken);
}

using CapCluster.Client;

namespace CapCluster.Repl;

/// <summary>What the console asks of the cluster; <see cref="ClusterCalls"/> does it with a <see cref="MultiEngineClient"/>.</summary>
internal interface IClusterCalls
{
    /// <summary>The engines calls go to when none are named (null: every engine); kept in step with <c>mec.Targets</c>.</summary>
    IReadOnlyList<int>? Targets { get; set; }

    Task<IReadOnlyList<int>> GetIdsAsync(CancellationToken cancellationToken);

    /// <summary>Runs <paramref name="code"/> on one engine. Not cancellable: the engine goes on, only the wait for it may stop.</summary>
    Task<ExecuteResults> ExecuteAsync(string code, int engineId);

    /// <summary>Execution <paramref name="executionCount"/> from one engine's history.</summary>
    Task<ExecuteResults> GetResultAsync(int executionCount, int engineId);

    /// <summary>Prints the controller and its engines, as <c>capcluster status</c> does.</summary>
    Task ShowStatusAsync(CancellationToken cancellationToken);
}

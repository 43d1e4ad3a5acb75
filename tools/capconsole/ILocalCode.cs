using CapCluster.Security;

namespace CapCluster.Repl;

/// <summary>C# run in the console process itself, with state carried from one input to the next.</summary>
internal interface ILocalCode
{
    /// <summary>Runs <paramref name="code"/>; HasValue is true when it ended with an expression.</summary>
    /// <exception cref="CapClusterException">The code did not compile; the message says where.</exception>
    Task<(bool HasValue, object? Value)> RunAsync(string code, CancellationToken cancellationToken);
}

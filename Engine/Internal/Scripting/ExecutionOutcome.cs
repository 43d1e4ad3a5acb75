namespace CapCluster.Engine.Internal.Scripting;

/// <summary>The result of one execute: In[<paramref name="ExecutionCount"/>].</summary>
internal sealed record ExecutionOutcome(
    int ExecutionCount, string Code, string Stdout, string Stderr, object? Value, bool HasValue, RemoteFailure? Error)
{
    public bool Succeeded => Error is null;
}

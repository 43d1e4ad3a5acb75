using CapCluster.Client;

namespace CapCluster.Interactive.Internal;

/// <summary>One #!px (or #!result) call: one call per engine, so that a quick engine's answer shows before a slow one's.</summary>
internal sealed class PxCall(string title, IReadOnlyList<(int EngineId, Task<ExecuteResults> Answer)> calls)
{
    public string Title { get; } = title;

    public IReadOnlyList<(int EngineId, Task<ExecuteResults> Answer)> Calls { get; } = calls;

    public IEnumerable<int> EngineIds => Calls.Select(c => c.EngineId);

    /// <summary>What has arrived so far, in target order; engines still working are pending rows.</summary>
    public PxView Snapshot() => new(Title, [.. Calls.SelectMany(Rows)]);

    /// <summary>Each engine's error, for the cell's failure message (empty when all succeeded or some still run).</summary>
    public IReadOnlyList<string> Errors() =>
        [.. Calls.Where(c => c.Answer.IsCompleted && !c.Answer.IsCompletedSuccessfully).Select(c => PxView.DescribeError(c.EngineId, Failure(c.Answer)))];

    private static IEnumerable<PxRow> Rows((int EngineId, Task<ExecuteResults> Answer) call)
    {
        if (!call.Answer.IsCompleted)
        {
            return [new PxRow(call.EngineId, null, null)];
        }

        return call.Answer.IsCompletedSuccessfully
            ? call.Answer.Result.Select(r => new PxRow(r.EngineId, r, null))
            : [new PxRow(call.EngineId, null, Failure(call.Answer))];
    }

    private static Exception Failure(Task answer)
    {
        var error = answer.Exception?.InnerException ?? new TaskCanceledException(answer);
        return error is CompositeRemoteException { Errors.Count: 1 } composite ? composite.Errors[0] : error;
    }
}

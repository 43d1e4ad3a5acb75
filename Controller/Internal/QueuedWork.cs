using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal;

/// <summary>One item in an engine's FIFO queue and the caller waiting for its result.</summary>
internal sealed class QueuedWork(Work work)
{
    private readonly TaskCompletionSource<WorkResult> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Work Work { get; } = work;

    public Task<WorkResult> Result => completion.Task;

    public bool Complete(WorkResult result) => completion.TrySetResult(result);

    public bool Fail(Exception error) => completion.TrySetException(error);
}

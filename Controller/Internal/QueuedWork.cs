using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal;

/// <summary>An engine's answer to one work item, with the chunks of its blobs.</summary>
internal sealed record EngineResult(WorkResult Result, IReadOnlyList<DataChunk> Chunks);

/// <summary>One item in an engine's FIFO queue (with the chunks of its blobs) and the caller waiting for its result.</summary>
internal sealed class QueuedWork(Work work, IReadOnlyList<DataChunk> chunks)
{
    private readonly TaskCompletionSource<EngineResult> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Work Work { get; } = work;

    public IReadOnlyList<DataChunk> Chunks { get; } = chunks;

    public Task<EngineResult> Result => completion.Task;

    public bool Complete(EngineResult result) => completion.TrySetResult(result);

    public bool Fail(Exception error) => completion.TrySetException(error);
}

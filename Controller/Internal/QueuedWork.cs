using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;

namespace CapCluster.Controller.Internal;

/// <summary>An engine's answer to one work item, with its blobs.</summary>
internal sealed record EngineResult(WorkResult Result, RelayedBlobs Blobs);

/// <summary>
/// One item in an engine's FIFO queue (with its blobs) and the caller waiting for its result.
/// Whoever waits for the result runs on the thread that read it from the engine's stream (no thread hop on a
/// small task's way back), until its first wait: what waits here must not block.
/// </summary>
internal sealed class QueuedWork(Work work, RelayedBlobs blobs)
{
    private readonly TaskCompletionSource<EngineResult> completion = new();

    public Work Work { get; } = work;

    public RelayedBlobs Blobs { get; } = blobs;

    public Task<EngineResult> Result => completion.Task;

    public bool Complete(EngineResult result) => completion.TrySetResult(result);

    public bool Fail(Exception error) => completion.TrySetException(error);
}

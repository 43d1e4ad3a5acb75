using System.Runtime.CompilerServices;

namespace CapCluster.Client;

/// <summary>
/// A call in flight. Awaiting it gives the result (the blocking style); keeping it lets the caller
/// go on and look at <see cref="Ready"/> later (the non-blocking style). <see cref="Sent"/> and
/// <see cref="WaitForSendAsync"/> tell when the data of a push has been written out, so that its
/// arrays may be changed again.
/// </summary>
public sealed class AsyncResult<T>
{
    private readonly Task<T> result;
    private readonly Task sent;
    private readonly Func<IReadOnlyList<EngineCallMetadata>> metadata;

    internal AsyncResult(Task<T> result, Task sent, Func<IReadOnlyList<EngineCallMetadata>> metadata)
    {
        this.result = result;
        this.sent = sent;
        this.metadata = metadata;
    }

    /// <summary>True once every target engine has answered (or the call failed).</summary>
    public bool Ready => result.IsCompleted;

    /// <summary>True once the call and its data have been written to the controller.</summary>
    public bool Sent => sent.IsCompleted;

    /// <summary>Per engine: id, submitted, started, completed, stdout, stderr. Empty until <see cref="Ready"/>.</summary>
    public IReadOnlyList<EngineCallMetadata> Metadata => metadata();

    /// <summary>Completes when the call and its data have been written out: the pushed arrays may then change.</summary>
    public Task WaitForSendAsync(CancellationToken cancellationToken = default) => sent.WaitAsync(cancellationToken);

    /// <summary>The result as a task.</summary>
    public Task<T> AsTask() => result;

    /// <summary>Waits for the result at most <paramref name="timeout"/>.</summary>
    /// <exception cref="TimeoutException">It was not ready in time (the call goes on).</exception>
    public Task<T> GetAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => result.WaitAsync(timeout, cancellationToken);

    /// <summary>Awaits without coming back to the captured context, as library code should.</summary>
    public ConfiguredTaskAwaitable<T> ConfigureAwait(bool continueOnCapturedContext) => result.ConfigureAwait(continueOnCapturedContext);

    /// <summary>Makes the call awaitable.</summary>
    public TaskAwaiter<T> GetAwaiter() => result.GetAwaiter();
}

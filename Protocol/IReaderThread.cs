namespace CapCluster.Protocol;

/// <summary>
/// A stream whose messages are delivered on a reader thread of its own, which can also run short work right after
/// the message being delivered (see <see cref="AsyncStreamReaderExtensions.RunAfterThisMessage{T}"/>).
/// </summary>
public interface IReaderThread
{
    /// <summary>
    /// Runs <paramref name="action"/> on the reader thread once the current delivery has returned (the consumer is
    /// waiting for its next message by then); false, with nothing done, when not called on the reader thread.
    /// </summary>
    bool TryRunAfterThisMessage(Action action);
}

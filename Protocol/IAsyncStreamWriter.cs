namespace CapCluster.Protocol;

/// <summary>Writes a stream of messages. Writes must not overlap: await each before the next.</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IAsyncStreamWriter<in T>
{
    /// <summary>Writes one message and flushes it to the network.</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}

namespace CapCluster.Protocol;

/// <summary>Reads a stream of messages, one at a time.</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IAsyncStreamReader<out T>
{
    /// <summary>The message read by the last successful <see cref="MoveNext"/>.</summary>
    T Current { get; }

    /// <summary>
    /// Reads the next message. Returns false at the end of a stream that ended with status OK;
    /// throws <see cref="RpcException"/> when it ended with another status.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait; on the client it cancels the whole call.</param>
    Task<bool> MoveNext(CancellationToken cancellationToken);
}

using System.Runtime.CompilerServices;

namespace CapCluster.Protocol;

/// <summary>Extensions for <see cref="IAsyncStreamReader{T}"/>.</summary>
public static class AsyncStreamReaderExtensions
{
    /// <summary>Enumerates every remaining message of <paramref name="reader"/>.</summary>
    /// <param name="reader">The stream reader.</param>
    /// <param name="ct">Cancels the enumeration (and, on the client, the call).</param>
    public static async IAsyncEnumerable<T> ReadAllAsync<T>(
        this IAsyncStreamReader<T> reader,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        while (await reader.MoveNext(ct).ConfigureAwait(false))
        {
            yield return reader.Current;
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> soon, without a thread hop when it can: on the reader's own thread right after
    /// the message being delivered, when <paramref name="reader"/> has one (a stream lane) and this is that thread;
    /// otherwise on the thread pool. Use it to complete what a caller awaits, so its continuation neither runs
    /// inside the delivery (the reader's consumer must get back to its next read) nor waits for a pool thread.
    /// </summary>
    public static void RunAfterThisMessage<T>(this IAsyncStreamReader<T> reader, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (reader is IReaderThread thread && thread.TryRunAfterThisMessage(action))
        {
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(static a => a(), action, preferLocal: false);
    }
}

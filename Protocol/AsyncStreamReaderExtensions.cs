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
}

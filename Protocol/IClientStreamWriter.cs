namespace CapCluster.Protocol;

/// <summary>Writes the request stream of a client-streaming or duplex call, on the client.</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IClientStreamWriter<in T> : IAsyncStreamWriter<T>
{
    /// <summary>Ends the request stream (half-close). Calling it more than once is harmless.</summary>
    Task CompleteAsync();
}

namespace CapCluster.Protocol;

/// <summary>Writes the response stream of a server-streaming or duplex call, on the server.</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IServerStreamWriter<in T> : IAsyncStreamWriter<T>
{
}

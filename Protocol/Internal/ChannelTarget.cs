namespace CapCluster.Protocol.Internal;

/// <summary>
/// The server a channel calls, for messages, and what its connections last showed of our certificate: a connection
/// closed before the server acknowledged our SETTINGS is a refused certificate (<see cref="WatchedStream"/>), and
/// SocketsHttpHandler may report that connection's failure to the call only as "the server did not complete the
/// HTTP/2 handshake", without the cause, when the refusal came as it handed the new connection to the call.
/// </summary>
internal sealed class ChannelTarget(string name)
{
    private volatile ConnectFailureException? _refusal;

    /// <summary>The endpoints as <c>host:port</c>, comma-separated.</summary>
    public string Name { get; } = name;

    /// <summary>The refusal of the channel's last connection that ended before the server accepted it; null once one was accepted.</summary>
    public ConnectFailureException? Refusal => _refusal;

    /// <summary>What a connection showed: a refusal, or (null) that the server accepted it.</summary>
    public void Saw(ConnectFailureException? refusal) => _refusal = refusal;

    public override string ToString() => Name;
}

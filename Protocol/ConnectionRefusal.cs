namespace CapCluster.Protocol;

/// <summary>A connection a server closed before any call was made on it.</summary>
/// <param name="Endpoint">The name of the endpoint (port) it came to.</param>
/// <param name="Peer">Its remote address and port.</param>
/// <param name="Reason">Why it was closed, naming the limit.</param>
public sealed record ConnectionRefusal(string Endpoint, string Peer, string Reason);

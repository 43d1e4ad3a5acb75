using CapCluster.Protocol.V1;

namespace CapCluster.Protocol;

/// <summary>
/// A long-lived duplex stream that travels on HTTP/2 or, when one can be had, on a stream lane (its own TLS connection
/// to the data port): the stream's method, and its service's <c>OpenStream</c>, the gated call that grants the lane.
/// A client opens it with one call and a server serves it with one registration; which way it went, neither says.
/// </summary>
/// <param name="Method">The stream, as HTTP/2 carries it.</param>
/// <param name="Grant">The call that grants a stream lane for it.</param>
public sealed record StreamMethod<TRequest, TResponse>(Method<TRequest, TResponse> Method, Method<OpenStreamRequest, OpenStreamReply> Grant)
    where TRequest : class
    where TResponse : class;

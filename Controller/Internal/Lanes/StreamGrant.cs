using System.Net.Sockets;

namespace CapCluster.Controller.Internal.Lanes;

/// <summary>
/// A stream lane the controller granted through a gated OpenStream call: who may join it (the caller's
/// certificate), until when, and how to serve the stream once the caller has joined.
/// </summary>
internal sealed class StreamGrant(byte[] id, StreamCaller caller, string service, string method, DateTimeOffset joinBy, Func<Socket, StreamGrant, Task> serve)
{
    public byte[] Id { get; } = id;

    public string IdHex { get; } = Convert.ToHexStringLower(id);

    public StreamCaller Caller { get; } = caller;

    public string Service { get; } = service;

    public string Method { get; } = method;

    public DateTimeOffset JoinBy { get; } = joinBy;

    /// <summary>Runs TLS with the joined socket and serves the stream until it ends.</summary>
    public Task ServeAsync(Socket socket) => serve(socket, this);

    public string Describe() => $"stream lane {IdHex[..8]} for {Method} of capability {Caller.Capability?.Id ?? "-"}";
}

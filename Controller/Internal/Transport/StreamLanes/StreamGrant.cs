using System.Net.Sockets;
using CapCluster.Protocol;
using CapCluster.Security;

namespace CapCluster.Controller.Internal.Transport.StreamLanes;

/// <summary>
/// A stream lane the controller granted through a gated OpenStream call: who may join it (the caller's
/// certificate), until when, and how to serve the stream once the caller has joined.
/// </summary>
internal sealed class StreamGrant(byte[] id, CallContext grantedBy, string service, string method, DateTimeOffset joinBy, Func<Socket, StreamGrant, Task> serve)
{
    public byte[] Id { get; } = id;

    public string IdHex { get; } = Convert.ToHexStringLower(id);

    /// <summary>The gated call that asked for the lane: the stream is served with what it captured.</summary>
    public CallContext GrantedBy { get; } = grantedBy;

    public string Peer => GrantedBy.Peer;

    public CapabilityRecord? Capability { get; } = CallItems.CapabilityOf(grantedBy);

    /// <summary>SHA-256 of the granted certificate: the only one the lane's TLS accepts.</summary>
    public byte[] CertificateSha256 { get; } = CallItems.CertificateSha256(grantedBy);

    public string Fingerprint => Convert.ToHexStringLower(CertificateSha256);

    public string Service { get; } = service;

    public string Method { get; } = method;

    public DateTimeOffset JoinBy { get; } = joinBy;

    /// <summary>Runs TLS with the joined socket and serves the stream until it ends.</summary>
    public Task ServeAsync(Socket socket) => serve(socket, this);

    public string Describe() => $"stream lane {IdHex[..8]} for {Method} of capability {Capability?.Id ?? "-"}";
}

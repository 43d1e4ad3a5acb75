using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Protocol;
using CapCluster.Security;

namespace CapCluster.Controller.Internal;

/// <summary>
/// Who runs a long-lived stream, whichever way it travels (an HTTP/2 call, or a stream lane granted by one):
/// what the gate learned of the caller, and the token that ends the stream.
/// </summary>
/// <param name="Peer">The caller's address, as the audit log gives it.</param>
/// <param name="Certificate">The client certificate the gate accepted.</param>
/// <param name="Capability">The capability the gate accepted, when the call went through it.</param>
/// <param name="CancellationToken">Cancelled when the stream ends or the controller stops.</param>
internal sealed record StreamCaller(string Peer, X509Certificate2 Certificate, CapabilityRecord? Capability, CancellationToken CancellationToken)
{
    /// <summary>SHA-256 of <see cref="Certificate"/>: what a lane pins, and what a registered engine is known by.</summary>
    public byte[] CertificateSha256 { get; } = SHA256.HashData(Certificate.RawData);

    /// <summary><see cref="CertificateSha256"/> in lowercase hex, as the audit log records it.</summary>
    public string Fingerprint => Convert.ToHexStringLower(CertificateSha256);

    /// <summary>The caller of a call that passed the gate.</summary>
    /// <exception cref="RpcException">The call has no client certificate (it did not pass the gate).</exception>
    public static StreamCaller Of(CallContext context) => new(
        context.Peer,
        context.ClientCertificate ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "the call presented no client certificate")),
        context.Items.TryGetValue(CallItems.Capability, out var item) ? item as CapabilityRecord : null,
        context.CancellationToken);
}

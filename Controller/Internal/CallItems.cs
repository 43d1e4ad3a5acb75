using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Protocol;
using CapCluster.Security;

namespace CapCluster.Controller.Internal;

/// <summary>What the gate leaves in a call's items for the handlers, and what handlers read of the caller.</summary>
internal static class CallItems
{
    public static readonly object Capability = new();

    /// <summary>The capability the gate accepted for the call, when it went through the gate.</summary>
    public static CapabilityRecord? CapabilityOf(CallContext context) =>
        context.Items.TryGetValue(Capability, out var item) ? item as CapabilityRecord : null;

    /// <summary>The client certificate of a call that passed the gate.</summary>
    /// <exception cref="RpcException">UNAUTHENTICATED: the call has no client certificate (it did not pass the gate).</exception>
    public static X509Certificate2 CertificateOf(CallContext context) =>
        context.ClientCertificate ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "the call presented no client certificate"));

    /// <summary>SHA-256 of the call's client certificate: what a lane pins, and what a registered engine is known by.</summary>
    public static byte[] CertificateSha256(CallContext context) => SHA256.HashData(CertificateOf(context).RawData);

    /// <summary>The call's client certificate's SHA-256 in lowercase hex, as the audit log records it.</summary>
    public static string FingerprintOf(CallContext context) => Convert.ToHexStringLower(CertificateSha256(context));
}

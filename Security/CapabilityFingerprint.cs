using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// The fingerprint that pins a controller in a capability URL.
/// </summary>
public static class CapabilityFingerprint
{
    /// <summary>Length of a fingerprint in characters (52).</summary>
    public const int Length = 52;

    /// <summary>
    /// RFC 4648 base32 (lowercase, no padding, 52 characters) of the SHA-256 of the certificate's
    /// SubjectPublicKeyInfo DER. It depends on the CA key only, so a re-issued CA certificate keeps it.
    /// </summary>
    public static string Of(X509Certificate2 caCertificate)
    {
        ArgumentNullException.ThrowIfNull(caCertificate);
        var spki = caCertificate.PublicKey.ExportSubjectPublicKeyInfo();
        return Base32.Encode(SHA256.HashData(spki));
    }
}

using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CapCluster.Security.Internal;

internal static class CertificateSignature
{
    /// <summary>
    /// Whether <paramref name="issuer"/>'s ECDSA key really signed <paramref name="certificate"/>.
    /// Checked directly on the DER so that a look-alike with matching names cannot pass on name matching alone.
    /// </summary>
    public static bool IsSignedBy(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        using var key = issuer.GetECDsaPublicKey();
        if (key is null)
            return false;
        try
        {
            var reader = new AsnReader(certificate.RawData, AsnEncodingRules.DER);
            var outer = reader.ReadSequence();
            var tbs = outer.ReadEncodedValue();
            var algorithm = outer.ReadSequence();
            var oid = algorithm.ReadObjectIdentifier();
            var signature = outer.ReadBitString(out var unusedBits);
            if (unusedBits != 0)
                return false;
            HashAlgorithmName? hash = oid switch
            {
                "1.2.840.10045.4.3.2" => HashAlgorithmName.SHA256,
                "1.2.840.10045.4.3.3" => HashAlgorithmName.SHA384,
                "1.2.840.10045.4.3.4" => HashAlgorithmName.SHA512,
                _ => null,
            };
            return hash is { } h && key.VerifyData(tbs.Span, signature, h, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (AsnContentException)
        {
            return false;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    public static string Sha256Hex(X509Certificate2 certificate) =>
        Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));

    public static bool SamePublicKey(X509Certificate2 certificate, ECDsa key) =>
        certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo());

    /// <summary>
    /// The certificate with <paramref name="key"/> attached, in the form TLS can use: on Linux (OpenSSL) the copy
    /// <c>CopyWithPrivateKey</c> makes, which holds its own reference
    /// to the key; on Windows, whose TLS cannot use such an in-memory key, reloaded through PKCS#12. The round trip
    /// cost about 18 ms of every capability file read (two PBKDF2 passes each way), three times on the controller's
    /// way to ready and once more on every engine's and client's way to connect.
    /// </summary>
    public static X509Certificate2 ForTls(X509Certificate2 certificate, ECDsa key)
    {
        var withKey = certificate.CopyWithPrivateKey(key);
        if (!OperatingSystem.IsWindows())
            return withKey;
        using (withKey)
        {
            var pfx = withKey.Export(X509ContentType.Pkcs12);
            try
            {
                return X509CertificateLoader.LoadPkcs12(pfx, null, X509KeyStorageFlags.Exportable);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pfx);
            }
        }
    }

    public static DateTimeOffset NotBefore(X509Certificate2 certificate) => new(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);

    public static DateTimeOffset NotAfter(X509Certificate2 certificate) => new(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// The controller's certificate authority: an ECDSA P-256 key that issues the controller's server
/// certificate and one holder certificate per capability, and checks client certificates.
/// </summary>
public sealed partial class CertificateAuthority : IDisposable
{
    /// <summary>File name of the CA private key (PKCS#8 PEM, mode 0600) in the security folder.</summary>
    public const string KeyFileName = "ca.key";

    /// <summary>File name of the CA certificate (PEM) in the security folder.</summary>
    public const string CertificateFileName = "ca.crt";

    /// <summary>How long a new CA certificate is valid: 200 years, so it outlives every holder certificate.</summary>
    public static readonly TimeSpan CaLifetime = TimeSpan.FromDays(200 * 365.25);

    /// <summary>Default holder certificate lifetime when no expiry is given: 100 years.</summary>
    public static readonly TimeSpan DefaultHolderLifetime = TimeSpan.FromDays(100 * 365.25);

    /// <summary>Certificates start this long before "now" to tolerate clock skew: 5 minutes.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    private readonly X509Certificate2 _signer;
    private readonly TimeProvider _time;

    private CertificateAuthority(X509Certificate2 signer, TimeProvider time)
    {
        _signer = signer;
        _time = time;
        Certificate = X509CertificateLoader.LoadCertificate(signer.RawData);
        Fingerprint = CapabilityFingerprint.Of(Certificate);
    }

    /// <summary>The CA certificate, public part only (no private key).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The controller fingerprint: <see cref="CapabilityFingerprint.Of"/> of <see cref="Certificate"/>.</summary>
    public string Fingerprint { get; }

    /// <summary>
    /// Loads <c>ca.key</c> and <c>ca.crt</c> from <paramref name="securityFolder"/>, or creates them when both are absent.
    /// The key file is created with mode 0600 in one step. The folder is created (0700) if needed.
    /// </summary>
    /// <param name="securityFolder">The cluster's security folder.</param>
    /// <param name="time">Clock for validity periods; <see cref="TimeProvider.System"/> by default.</param>
    /// <exception cref="CapClusterException">One file exists without the other, or a file is corrupt; the message names it.</exception>
    public static CertificateAuthority LoadOrCreate(string securityFolder, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var keyPath = Path.Combine(securityFolder, KeyFileName);
        var certPath = Path.Combine(securityFolder, CertificateFileName);
        var keyExists = File.Exists(keyPath);
        var certExists = File.Exists(certPath);
        if (keyExists && certExists)
            return Load(keyPath, certPath, time);
        if (keyExists)
            throw SecurityErrors.CaFileMissing(certPath, keyPath);
        if (certExists)
            throw SecurityErrors.CaFileMissing(keyPath, certPath);

        SecureFile.CreateFolder(securityFolder);
        var ca = Create($"CapCluster controller CA {Base32.Random(5)}", time);
        using (var key = ca._signer.GetECDsaPrivateKey()!)
            SecureFile.WriteAtomic(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        SecureFile.WriteAtomic(certPath, ca.Certificate.ExportCertificatePem() + "\n");
        return ca;
    }

    /// <summary>Creates a CA held only in memory, for tests and throwaway clusters.</summary>
    /// <param name="commonName">The CA's common name; "CapCluster test CA" by default.</param>
    /// <param name="time">Clock for validity periods; <see cref="TimeProvider.System"/> by default.</param>
    public static CertificateAuthority CreateEphemeral(string commonName = "CapCluster test CA", TimeProvider? time = null) =>
        Create(commonName, time ?? TimeProvider.System);

    private static CertificateAuthority Create(string commonName, TimeProvider time)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var name = new X500DistinguishedNameBuilder();
        name.AddCommonName(commonName);
        var request = new CertificateRequest(name.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = time.GetUtcNow();
        var certificate = request.CreateSelfSigned(now - ClockSkew, now + CaLifetime);
        return new CertificateAuthority(certificate, time);
    }

    private static CertificateAuthority Load(string keyPath, string certPath, TimeProvider time)
    {
        // Whoever reads the key can make any capability of this controller: a shared one is refused, not used.
        if (SecureFile.SharedMode(keyPath) is { } shared)
            throw SecurityErrors.CaKeyShared(keyPath, shared);
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(File.ReadAllText(certPath));
        }
        catch (CryptographicException e)
        {
            throw SecurityErrors.CaFileCorrupt(certPath, "not a PEM certificate: " + e.Message, e);
        }
        using (certificate)
        {
            var key = ECDsa.Create();
            try
            {
                key.ImportFromPem(File.ReadAllText(keyPath));
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                key.Dispose();
                throw SecurityErrors.CaFileCorrupt(keyPath, "not a PEM ECDSA private key: " + e.Message, e);
            }
            using (key)
            {
                if (!CertificateSignature.SamePublicKey(certificate, key))
                    throw SecurityErrors.CaFileCorrupt(keyPath, $"the key does not belong to the certificate in {certPath}");
                return new CertificateAuthority(certificate.CopyWithPrivateKey(key), time);
            }
        }
    }

    /// <summary>
    /// Issues the controller's TLS server certificate (ECDSA P-256, EKU serverAuth, with private key).
    /// The SAN lists IP entries for addresses and DNS entries for names, always including
    /// <c>localhost</c>, <c>127.0.0.1</c> and <c>::1</c>.
    /// </summary>
    /// <param name="hostsOrAddresses">Names and addresses clients use to reach the controller.</param>
    /// <param name="lifetime">Validity from now (capped at the CA's own expiry).</param>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string> hostsOrAddresses, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(hostsOrAddresses);
        var names = new List<string>();
        var addresses = new List<IPAddress>();
        foreach (var entry in hostsOrAddresses.Concat(["localhost", "127.0.0.1", "::1"]))
        {
            var host = entry.Trim().TrimStart('[').TrimEnd(']');
            if (host.Length == 0)
                continue;
            if (IPAddress.TryParse(host, out var address))
            {
                if (!addresses.Contains(address))
                    addresses.Add(address);
            }
            else if (!names.Contains(host, StringComparer.OrdinalIgnoreCase))
            {
                names.Add(host);
            }
        }

        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
            san.AddDnsName(name);
        foreach (var address in addresses)
            san.AddIpAddress(address);

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName("capcluster controller " + (names.FirstOrDefault(n => n != "localhost") ?? "localhost"));
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthOid)], false));
        request.CertificateExtensions.Add(san.Build());
        return Sign(request, key, lifetimeEnd: _time.GetUtcNow() + lifetime);
    }

    /// <summary>
    /// Issues the certificate a capability holder presents (ECDSA P-256, with private key): EKU clientAuth only,
    /// subject <c>CN=capcluster &lt;iface&gt; &lt;id&gt;</c>, the <see cref="HolderCertificateExtension"/>,
    /// a random 16-byte serial, valid from 5 minutes ago.
    /// </summary>
    /// <param name="capabilityId">The capability's id.</param>
    /// <param name="iface">The interface it grants.</param>
    /// <param name="notAfter">End of validity; <c>null</c> means 100 years from now (capped at the CA's own expiry).</param>
    public X509Certificate2 IssueHolderCertificate(string capabilityId, string iface, DateTimeOffset? notAfter)
    {
        var extension = HolderCertificateExtension.Create(capabilityId, iface);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName($"capcluster {iface} {capabilityId}");
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ClientAuthOid)], false));
        request.CertificateExtensions.Add(extension);
        return Sign(request, key, notAfter ?? _time.GetUtcNow() + DefaultHolderLifetime);
    }

    private X509Certificate2 Sign(CertificateRequest request, ECDsa key, DateTimeOffset lifetimeEnd)
    {
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        var caNotBefore = CertificateSignature.NotBefore(Certificate);
        var caNotAfter = CertificateSignature.NotAfter(Certificate);
        var notBefore = Max(_time.GetUtcNow() - ClockSkew, caNotBefore);
        var notAfter = lifetimeEnd > caNotAfter ? caNotAfter : lifetimeEnd;
        if (notAfter <= notBefore)
            notAfter = notBefore + TimeSpan.FromSeconds(1);
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // keep the DER INTEGER positive
        serial[0] |= 0x01; // and exactly 16 bytes long
        using var issued = request.Create(_signer, notBefore, notAfter, serial);
        return CertificateSignature.ForTls(issued, key);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>Releases the CA key and certificates.</summary>
    public void Dispose()
    {
        _signer.Dispose();
        Certificate.Dispose();
    }
}

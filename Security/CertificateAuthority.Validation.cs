using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

public sealed partial class CertificateAuthority
{
    /// <summary>
    /// Checks a client certificate presented in a TLS handshake. Valid only if present, signed by this CA's key,
    /// chaining to this CA alone (custom root trust, no revocation download) for client authentication,
    /// within validity at the <see cref="TimeProvider"/>'s now, and carrying a <see cref="HolderCertificateExtension"/>.
    /// Capability revocation is the registry's job, not this method's.
    /// </summary>
    public CertificateCheck ValidateClientCertificate(X509Certificate2? certificate)
    {
        if (certificate is null)
            return Refuse(SecurityErrors.NoClientCertificate, null);

        var fingerprint = CertificateSignature.Sha256Hex(certificate);
        // What an unverified certificate claims is not reported: the audit log would repeat a forger's words.
        (string CapabilityId, string Interface)? capability = null;
        CertificateCheck Fail(string reason, bool expired = false) =>
            new(false, reason, capability?.CapabilityId, capability?.Interface, fingerprint, expired);

        // Name matching is what a look-alike exploits, so the signature is verified first, directly.
        if (!CertificateSignature.IsSignedBy(certificate, Certificate))
            return Fail(SecurityErrors.NotIssuedByCa);
        capability = HolderCertificateExtension.Read(certificate);

        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.Add(Certificate);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.ApplicationPolicy.Add(new Oid(ClientAuthOid));
        policy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        policy.VerificationTimeIgnored = false;

        var built = chain.Build(certificate);
        var status = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
        if (status.HasFlag(X509ChainStatusFlags.NotTimeValid) || !built && IsOutsideValidity(certificate))
        {
            var now = _time.GetUtcNow();
            var notAfter = CertificateSignature.NotAfter(certificate);
            return now > notAfter
                ? Fail(SecurityErrors.CertificateExpired(notAfter), expired: true)
                : Fail(SecurityErrors.CertificateNotYetValid(CertificateSignature.NotBefore(certificate)));
        }
        if (status.HasFlag(X509ChainStatusFlags.NotValidForUsage))
            return Fail(SecurityErrors.NotForClientAuth);
        if (status.HasFlag(X509ChainStatusFlags.UntrustedRoot) || status.HasFlag(X509ChainStatusFlags.PartialChain)
            || status.HasFlag(X509ChainStatusFlags.NotSignatureValid))
            return Fail(SecurityErrors.NotIssuedByCa);
        if (!built)
            return Fail(SecurityErrors.CertificateChainInvalid(status.ToString()));

        // Holder certificates come straight from the CA: exactly [holder, this CA].
        if (chain.ChainElements.Count != 2 || !chain.ChainElements[1].Certificate.RawDataMemory.Span.SequenceEqual(Certificate.RawDataMemory.Span))
            return Fail(SecurityErrors.NotIssuedByCa);
        if (capability is null)
            return Fail(SecurityErrors.NoCapabilityInCertificate);

        return new CertificateCheck(true, null, capability.Value.CapabilityId, capability.Value.Interface, fingerprint, false);
    }

    private bool IsOutsideValidity(X509Certificate2 certificate)
    {
        var now = _time.GetUtcNow();
        return now < CertificateSignature.NotBefore(certificate) || now > CertificateSignature.NotAfter(certificate);
    }

    private static CertificateCheck Refuse(string reason, string? fingerprint) => new(false, reason, null, null, fingerprint, false);
}

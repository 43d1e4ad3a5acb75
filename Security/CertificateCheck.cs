namespace CapCluster.Security;

/// <summary>
/// The outcome of <see cref="CertificateAuthority.ValidateClientCertificate"/>.
/// </summary>
/// <param name="IsValid">Whether the certificate may be used.</param>
/// <param name="Reason">Why not, for people; <c>null</c> when valid.</param>
/// <param name="CapabilityId">The capability id in the certificate, when it carries one.</param>
/// <param name="Interface">The interface in the certificate, when it carries one.</param>
/// <param name="CertificateFingerprint">Lowercase hex SHA-256 of the certificate DER whenever a certificate was presented (what the audit log records).</param>
/// <param name="Expired">Whether the certificate was refused because it expired.</param>
public sealed record CertificateCheck(
    bool IsValid,
    string? Reason,
    string? CapabilityId,
    string? Interface,
    string? CertificateFingerprint,
    bool Expired);

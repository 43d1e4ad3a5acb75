using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace CapCluster.Security;

/// <summary>
/// The certificate extension naming the capability a holder certificate was issued for.
/// Its value is DER: <c>SEQUENCE { interface UTF8String, capabilityId UTF8String }</c>.
/// </summary>
public static class HolderCertificateExtension
{
    /// <summary>The extension's OID, derived from a fixed UUID under <c>2.25</c>.</summary>
    public const string Oid = "2.25.271823710185453919440262530931838917193";

    /// <summary>Maximum length of a capability id (64 characters).</summary>
    public const int MaxIdLength = 64;

    /// <summary>Creates the (non-critical) extension for <paramref name="capabilityId"/> and <paramref name="iface"/>.</summary>
    /// <exception cref="ArgumentException">The interface is unknown or the id is empty, too long or not [A-Za-z0-9_-].</exception>
    public static X509Extension Create(string capabilityId, string iface)
    {
        if (!CapabilityInterfaces.IsKnown(iface))
            throw new ArgumentException($"unknown capability interface '{iface}'", nameof(iface));
        if (!IsValidId(capabilityId))
            throw new ArgumentException($"'{capabilityId}' is not a valid capability id", nameof(capabilityId));
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteCharacterString(UniversalTagNumber.UTF8String, iface);
            writer.WriteCharacterString(UniversalTagNumber.UTF8String, capabilityId);
        }
        return new X509Extension(Oid, writer.Encode(), critical: false);
    }

    /// <summary>
    /// The capability named by <paramref name="certificate"/>, or <c>null</c> when the extension is absent,
    /// appears twice, or is not exactly the DER structure above with a known interface and a valid id.
    /// </summary>
    public static (string CapabilityId, string Interface)? Read(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        X509Extension? found = null;
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != Oid)
                continue;
            if (found is not null)
                return null;
            found = extension;
        }
        if (found is null)
            return null;
        try
        {
            var reader = new AsnReader(found.RawData, AsnEncodingRules.DER);
            var sequence = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var iface = sequence.ReadCharacterString(UniversalTagNumber.UTF8String);
            var id = sequence.ReadCharacterString(UniversalTagNumber.UTF8String);
            sequence.ThrowIfNotEmpty();
            if (!CapabilityInterfaces.IsKnown(iface) || !IsValidId(id))
                return null;
            return (id, iface);
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    internal static bool IsValidId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxIdLength)
            return false;
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
                return false;
        }
        return true;
    }
}

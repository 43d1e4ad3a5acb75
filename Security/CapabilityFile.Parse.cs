using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

public sealed partial class CapabilityFile
{
    private const string CertificateLabel = "CERTIFICATE";
    private const string KeyLabel = "PRIVATE KEY";

    /// <summary>Parses and fully checks the text of a capability file.</summary>
    /// <param name="text">The file's content.</param>
    /// <param name="sourceName">Named in errors, usually the path.</param>
    /// <exception cref="CapabilityFileException">The text is malformed or tampered with.</exception>
    public static CapabilityFile Parse(string text, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(sourceName);
        CapabilityFileException Problem(string problem, Exception? inner = null) => SecurityErrors.CapFile(sourceName, problem, inner);

        var url = ParseUrl(text, sourceName);
        var blocks = FindPemBlocks(text);
        foreach (var (label, _) in blocks)
        {
            if (label is not (CertificateLabel or KeyLabel))
                throw Problem(SecurityErrors.CapFileUnexpectedBlock(label));
        }
        var certificates = blocks.Where(b => b.Label == CertificateLabel).Select(b => b.Der).ToList();
        var keys = blocks.Where(b => b.Label == KeyLabel).Select(b => b.Der).ToList();
        if (keys.Count == 0)
            throw Problem(text.Contains("-----BEGIN PRIVATE KEY-----", StringComparison.Ordinal)
                ? SecurityErrors.CapFileBlockTruncated("private key")
                : SecurityErrors.CapFileBlockMissing("private key"));
        var certificateBegins = CountOccurrences(text, "-----BEGIN CERTIFICATE-----");
        if (certificates.Count < certificateBegins)
            throw Problem(SecurityErrors.CapFileBlockTruncated(certificates.Count == 0 ? "holder certificate" : "CA certificate"));
        if (certificates.Count == 0)
            throw Problem(SecurityErrors.CapFileBlockMissing("holder certificate"));
        if (certificates.Count == 1)
            throw Problem(SecurityErrors.CapFileBlockMissing("CA certificate"));
        if (certificates.Count > 2 || keys.Count > 1)
            throw Problem($"expected one holder certificate, one private key and one CA certificate, found {certificates.Count} certificates and {keys.Count} keys");

        using var holder = LoadCertificate(certificates[0], "holder certificate", sourceName);
        var ca = LoadCertificate(certificates[1], "CA certificate", sourceName);
        try
        {
            return Check(url, holder, keys[0], ca, sourceName);
        }
        catch
        {
            ca.Dispose();
            throw;
        }
    }

    private static CapabilityFile Check(CapabilityUrl url, X509Certificate2 holder, byte[] pkcs8, X509Certificate2 ca, string sourceName)
    {
        CapabilityFileException Problem(string problem, Exception? inner = null) => SecurityErrors.CapFile(sourceName, problem, inner);
        using var key = ECDsa.Create();
        try
        {
            key.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length)
                throw new CryptographicException("trailing data after the key");
        }
        catch (CryptographicException e)
        {
            throw Problem(SecurityErrors.CapFileGarbled("private key", e.Message), e);
        }

        if (!CertificateSignature.SamePublicKey(holder, key))
            throw Problem(SecurityErrors.CapFileKeyMismatch);
        if (CapabilityFingerprint.Of(ca) != url.CaFingerprint)
            throw Problem(SecurityErrors.CapFileFingerprintMismatch);
        if (!CertificateSignature.IsSignedBy(holder, ca))
            throw Problem(SecurityErrors.CapFileNotSignedByCa);
        var capability = HolderCertificateExtension.Read(holder) ?? throw Problem(SecurityErrors.CapFileNoCapability);
        if (capability.Interface != url.Interface)
            throw Problem(SecurityErrors.CapFileInterfaceMismatch(url.Interface, capability.Interface));

        return new CapabilityFile(url, CertificateSignature.ForTls(holder, key), ca);
    }

    private static CapabilityUrl ParseUrl(string text, string sourceName)
    {
        string? found = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("-----BEGIN", StringComparison.Ordinal))
                break;
            if (line.Length == 0 || line.StartsWith('#') || line == found)
                continue;
            if (found is null)
                found = line;
            else if (line.StartsWith(CapabilityUrl.Prefix, StringComparison.OrdinalIgnoreCase))
                throw SecurityErrors.CapFile(sourceName, SecurityErrors.CapFileTwoUrls);
        }
        if (found is null)
            throw SecurityErrors.CapFile(sourceName, SecurityErrors.CapFileNoUrl);
        try
        {
            return CapabilityUrl.Parse(found);
        }
        catch (FormatException e)
        {
            throw SecurityErrors.CapFile(sourceName, SecurityErrors.CapFileBadUrl(e.Message), e);
        }
    }

    private static List<(string Label, byte[] Der)> FindPemBlocks(string text)
    {
        var blocks = new List<(string, byte[])>();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label].ToString();
            var der = new byte[fields.DecodedDataLength];
            if (!Convert.TryFromBase64Chars(rest[fields.Base64Data], der, out var written) || written != der.Length)
                break;
            blocks.Add((label, der));
            rest = rest[fields.Location.End..];
        }
        return blocks;
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
            count++;
        return count;
    }

    private static X509Certificate2 LoadCertificate(byte[] der, string what, string sourceName)
    {
        try
        {
            // The loader accepts trailing bytes; a certificate must be exactly one DER value.
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            reader.ReadEncodedValue();
            reader.ThrowIfNotEmpty();
            return X509CertificateLoader.LoadCertificate(der);
        }
        catch (Exception e) when (e is CryptographicException or AsnContentException)
        {
            throw SecurityErrors.CapFile(sourceName, SecurityErrors.CapFileGarbled(what, e.Message), e);
        }
    }
}

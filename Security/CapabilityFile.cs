using System.Security.Cryptography.X509Certificates;
using System.Text;
using CapCluster.Security.Internal;

namespace CapCluster.Security;

/// <summary>
/// A self-contained <c>.cap</c> file: a commented header, the capability URL, the holder certificate and
/// its private key, and the controller CA certificate. Copying the file to another host is the whole set-up there.
/// </summary>
public sealed partial class CapabilityFile
{
    /// <summary>The largest capability file read: 64 KiB (one is a few KiB).</summary>
    public const int MaxFileBytes = 64 * 1024;

    // Any access for the group or others: a capability file is a secret, as an SSH private key is.

    /// <summary>Creates a capability file from its parts (nothing is checked here; <see cref="Parse"/> checks everything).</summary>
    /// <param name="url">The capability URL.</param>
    /// <param name="holderCertificate">The holder certificate, with its private key.</param>
    /// <param name="caCertificate">The controller CA certificate.</param>
    /// <exception cref="ArgumentException">The holder certificate has no ECDSA private key or no capability extension.</exception>
    public CapabilityFile(CapabilityUrl url, X509Certificate2 holderCertificate, X509Certificate2 caCertificate)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(holderCertificate);
        ArgumentNullException.ThrowIfNull(caCertificate);
        if (!holderCertificate.HasPrivateKey)
            throw new ArgumentException("the holder certificate must carry its private key", nameof(holderCertificate));
        var capability = HolderCertificateExtension.Read(holderCertificate)
            ?? throw new ArgumentException(SecurityErrors.CapFileNoCapability, nameof(holderCertificate));
        Url = url;
        HolderCertificate = holderCertificate;
        CaCertificate = caCertificate;
        CapabilityId = capability.CapabilityId;
    }

    /// <summary>The capability URL (contains the secret: never log it).</summary>
    public CapabilityUrl Url { get; }

    /// <summary>The holder certificate, with its private key, in the PKCS#12-loaded form SslStream needs on Linux.</summary>
    public X509Certificate2 HolderCertificate { get; }

    /// <summary>The controller CA certificate, to pin the server's certificate against.</summary>
    public X509Certificate2 CaCertificate { get; }

    /// <summary>The capability id, from the holder certificate's extension.</summary>
    public string CapabilityId { get; }

    /// <summary>The interface granted, from the URL.</summary>
    public string Interface => Url.Interface;

    /// <summary>
    /// Reads and fully checks a capability file. Refused before it is parsed: anything but a regular file (a named pipe,
    /// a device, a folder), a file the group or others may read (the fix, <c>chmod 600</c>, is in the message) and one
    /// over <see cref="MaxFileBytes"/>.
    /// </summary>
    /// <exception cref="CapabilityFileException">The file is missing, not a regular file, shared, too large, malformed or tampered with; the message names the file and the problem.</exception>
    public static CapabilityFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            // Checked first: opening a named pipe waits for a writer, and a device's mode says nothing about a secret.
            if (NativeFiles.NotRegular(path) is { } kind)
                throw SecurityErrors.CapFile(path, SecurityErrors.CapFileNotRegular(kind));
            if (SecureFile.SharedMode(path) is { } shared)
                throw SecurityErrors.CapFile(path, SecurityErrors.CapFileShared(path, shared));
            using var stream = File.OpenRead(path);
            var buffer = new byte[MaxFileBytes + 1];
            var length = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (length > MaxFileBytes)
                throw SecurityErrors.CapFile(path, SecurityErrors.CapFileTooLarge(MaxFileBytes));
            // An editor may have saved it with a byte order mark: the text is the same capability.
            text = Encoding.UTF8.GetString(buffer, 0, length).TrimStart('\uFEFF');
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw SecurityErrors.CapFile(path, SecurityErrors.CapFileMissing, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw SecurityErrors.CapFile(path, SecurityErrors.CapFileUnreadable(e.Message), e);
        }
        return Parse(text, path);
    }

    /// <summary>
    /// The file's text. The header says what it grants, its id, <paramref name="label"/>, when it was issued
    /// (the holder certificate's start of validity) and <paramref name="expires"/>.
    /// </summary>
    /// <param name="label">Who or what the capability is for; <c>null</c> (default) prints "none".</param>
    /// <param name="expires">When it expires; <c>null</c> (default) prints "never".</param>
    public string ToText(string? label = null, DateTimeOffset? expires = null)
    {
        using var key = HolderCertificate.GetECDsaPrivateKey()
            ?? throw new InvalidOperationException("the holder certificate has no ECDSA private key");
        var issued = CertificateSignature.NotBefore(HolderCertificate);
        var text = new StringBuilder();
        text.Append("# CapCluster capability: ").Append(Interface).Append(" (").Append(CapabilityInterfaces.Describe(Interface)).Append(")\n");
        text.Append("# id ").Append(CapabilityId)
            .Append(", label ").Append(string.IsNullOrWhiteSpace(label) ? "none" : OneLine(label))
            .Append(", issued ").Append(SecurityErrors.Iso(issued))
            .Append(", expires ").Append(expires is { } e ? SecurityErrors.Iso(e) : "never").Append('\n');
        text.Append("# Anyone holding this file has this authority. Keep it private (mode 0600); revoke it with furlgen if it leaks.\n");
        text.Append(Url).Append('\n');
        text.Append("# holder certificate and private key\n");
        text.Append(HolderCertificate.ExportCertificatePem()).Append('\n');
        text.Append(key.ExportPkcs8PrivateKeyPem()).Append('\n');
        text.Append("# controller CA certificate\n");
        text.Append(CaCertificate.ExportCertificatePem()).Append('\n');
        return text.ToString();
    }

    /// <summary>
    /// Writes the file atomically with mode 0600: a temp file in the same folder is created 0600 in one step,
    /// written, flushed to disk, then moved over <paramref name="path"/>.
    /// </summary>
    public void Write(string path, string? label = null, DateTimeOffset? expires = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        SecureFile.WriteAtomic(path, ToText(label, expires));
    }

    /// <summary>The same capability reached at other <paramref name="locations"/>.</summary>
    public CapabilityFile WithLocations(IReadOnlyList<CapabilityLocation> locations) =>
        new(Url.WithLocations(locations), HolderCertificate, CaCertificate);

    private static string OneLine(string text)
    {
        var chars = text.Trim().ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsControl(chars[i]))
                chars[i] = ' ';
        }
        return new string(chars);
    }
}

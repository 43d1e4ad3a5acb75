using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CapCluster.Bench;

/// <summary>
/// The floor's throwaway CA and the two certificates it issues: the server's (the relay and the worker listen with
/// it) and the client's (the bench and the relay connect with it). Made by the bench, handed to its child processes
/// as files in the run's private folder.
/// </summary>
internal sealed record FloorCertificates(X509Certificate2 Authority, X509Certificate2 Server, X509Certificate2 Client)
{
    /// <summary>The name the server certificate carries and the connecting side asks for.</summary>
    public const string ServerName = "localhost";

    private const string AuthorityFile = "ca.cer";
    private const string ServerFile = "server.pfx";
    private const string ClientFile = "client.pfx";
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    /// <summary>Makes the CA (ECDSA P-256) and issues both certificates, into files in <paramref name="folder"/>, readable by this user only.</summary>
    public static void Create(string folder)
    {
        var now = DateTimeOffset.UtcNow;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=CapCluster floor bench CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, critical: true));
        using var authority = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        Write(folder, AuthorityFile, authority.Export(X509ContentType.Cert));
        Write(folder, ServerFile, Issue(authority, "CN=CapCluster floor bench server", ServerAuthentication, serial: 1));
        Write(folder, ClientFile, Issue(authority, "CN=CapCluster floor bench client", ClientAuthentication, serial: 2));
    }

    /// <summary>The certificates <see cref="Create"/> put in <paramref name="folder"/>.</summary>
    public static FloorCertificates Load(string folder) => new(
        X509CertificateLoader.LoadCertificateFromFile(Path.Combine(folder, AuthorityFile)),
        X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(folder, ServerFile), password: null),
        X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(folder, ClientFile), password: null));

    /// <summary>A certificate from <paramref name="authority"/> for <paramref name="usage"/> (an extended key usage), with its key, as PKCS #12.</summary>
    private static byte[] Issue(X509Certificate2 authority, string subject, string usage, byte serial)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(ServerName);
        request.CertificateExtensions.Add(names.Build());
        using var issued = request.Create(authority, authority.NotBefore, authority.NotAfter, [serial]);
        using var withKey = issued.CopyWithPrivateKey(key);
        return withKey.Export(X509ContentType.Pkcs12);
    }

    private static void Write(string folder, string name, byte[] contents)
    {
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created 0600 in one step: a key file is never readable by others, not even between a write and a chmod.
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new FileStream(Path.Combine(folder, name), create);
        file.Write(contents);
    }
}

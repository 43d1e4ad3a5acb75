using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace CapCluster.Security;

/// <summary>
/// How clients and engines decide that the server they reached is the controller a
/// capability names: its certificate chains to the CA embedded in the .cap file (whose
/// fingerprint the URL pins) and is meant for server authentication. The OS trust store
/// plays no part, and neither does the host name: the pinned CA issues server
/// certificates only to its own controller.
/// </summary>
public static class ControllerCertificateValidator
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <summary>True when <paramref name="serverCertificate"/> was issued by <paramref name="controllerCa"/> for serverAuth and is valid now.</summary>
    public static bool IsController(X509Certificate2 serverCertificate, X509Certificate2 controllerCa, TimeProvider? time = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(controllerCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(ServerAuthentication));
        chain.ChainPolicy.VerificationTime = (time ?? TimeProvider.System).GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (!chain.Build(serverCertificate))
        {
            return false;
        }

        var root = chain.ChainElements[^1].Certificate;
        return root.RawDataMemory.Span.SequenceEqual(controllerCa.RawDataMemory.Span);
    }

    /// <summary>A TLS validation callback for <paramref name="controllerCa"/>, ignoring the OS store's opinion.</summary>
    public static Func<X509Certificate2, X509Chain?, SslPolicyErrors, bool> For(X509Certificate2 controllerCa) =>
        (certificate, _, _) => IsController(certificate, controllerCa);
}

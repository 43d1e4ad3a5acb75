using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// The TLS 1.3 handshake every lane runs (data lanes between client and engine, stream lanes with the controller):
/// blocking, no revocation download, one application protocol, and a peer that must present a certificate that
/// <c>accept</c> accepts. A peer refused that way is told apart from a handshake that failed for another reason.
/// </summary>
internal static class LaneTls
{
    /// <summary>Runs the handshake on <paramref name="ssl"/> as the server, asking the client for its certificate.</summary>
    /// <exception cref="LaneException"><paramref name="accept"/> refused the client's certificate: <paramref name="refused"/>.</exception>
    /// <exception cref="AuthenticationException">The handshake failed otherwise.</exception>
    public static void AuthenticateAsServer(
        SslStream ssl, X509Certificate2 certificate, SslApplicationProtocol protocol, Func<X509Certificate2, bool> accept, string refused)
    {
        var rejected = false;
        try
        {
            ssl.AuthenticateAsServer(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                ClientCertificateRequired = true,
                EnabledSslProtocols = SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                ApplicationProtocols = [protocol],
                RemoteCertificateValidationCallback = (_, peer, _, _) =>
                {
                    rejected = !(peer is X509Certificate2 client && accept(client));
                    return !rejected;
                },
            });
        }
        catch (AuthenticationException e) when (rejected)
        {
            throw new LaneException(refused, e);
        }
    }

    /// <summary>Runs the handshake on <paramref name="ssl"/> as the client, presenting <paramref name="certificate"/> when it is set.</summary>
    /// <exception cref="LaneException"><paramref name="accept"/> refused the server's certificate: <paramref name="refused"/>.</exception>
    /// <exception cref="AuthenticationException">The handshake failed otherwise.</exception>
    public static void AuthenticateAsClient(
        SslStream ssl,
        string targetHost,
        X509Certificate2? certificate,
        SslApplicationProtocol protocol,
        Func<X509Certificate2, X509Chain?, SslPolicyErrors, bool> accept,
        string refused)
    {
        var rejected = false;
        try
        {
            ssl.AuthenticateAsClient(new SslClientAuthenticationOptions
            {
                TargetHost = targetHost,
                EnabledSslProtocols = SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                ApplicationProtocols = [protocol],
                LocalCertificateSelectionCallback = certificate is null ? null : (_, _, _, _, _) => certificate,
                RemoteCertificateValidationCallback = (_, peer, chain, errors) =>
                {
                    rejected = !(peer is X509Certificate2 server && accept(server, chain, errors));
                    return !rejected;
                },
            });
        }
        catch (AuthenticationException e) when (rejected)
        {
            throw new LaneException(refused, e);
        }
    }
}

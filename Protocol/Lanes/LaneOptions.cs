using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Protocol.DataLanes;

namespace CapCluster.Protocol.Lanes;

/// <summary>How one end joins a data lane the controller granted.</summary>
/// <param name="Endpoints">The controller's data port, at each host the capability names, tried in order.</param>
/// <param name="LaneId">The lane id the controller granted.</param>
/// <param name="Role">Which end this is; the engine is the TLS server.</param>
/// <param name="Certificate">This end's holder certificate, with its private key.</param>
/// <param name="AcceptPeer">True for the one certificate the other end may present (the controller named it).</param>
/// <param name="Name">How errors name the lane, e.g. "the data lane to engine 2".</param>
public sealed record LaneOptions(
    IReadOnlyList<DnsEndPoint> Endpoints,
    byte[] LaneId,
    LaneRole Role,
    X509Certificate2 Certificate,
    Func<X509Certificate2, bool> AcceptPeer,
    string Name)
{
    /// <summary>How long connecting, the controller's answer and the TLS handshake may take together. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The controller's local socket (an abstract Unix socket name), tried before <see cref="Endpoints"/> by an end on
    /// the controller's host: there the controller hands an engine the client's own connection, and when the client
    /// joined there too, the lane runs through the kernel only, without TLS (<see cref="LaneConnection.IsLocal"/>).
    /// Null (the default): none.
    /// </summary>
    public string? HandoffSocket { get; init; }

    /// <summary>
    /// A peer check that accepts exactly the certificate whose SHA-256 is <paramref name="sha256"/>: the
    /// controller names it over the caller's own mutual-TLS connection, after its gate checked that capability.
    /// </summary>
    public static Func<X509Certificate2, bool> PinnedTo(ReadOnlyMemory<byte> sha256)
    {
        var expected = sha256.ToArray();
        return certificate => expected.Length == SHA256.HashSizeInBytes
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(certificate.RawData), expected);
    }
}

using System.Net.Security;
using System.Security.Cryptography;
using CapCluster.Protocol.Lanes;

namespace CapCluster.Protocol.DataLanes;

/// <summary>
/// The step between the TLS handshake and the lane's records: each end sends a fresh random value inside the mutually
/// authenticated TLS 1.3 session, and both derive each direction's key and IV from the two values, bound to the lane
/// and to both ends' certificates (see <see cref="LaneRecords"/>).
/// </summary>
internal static class LaneKeyExchange
{
    private static readonly byte[] Label = "capcluster lane v2"u8.ToArray();

    /// <summary>
    /// Sends this end's random value and reads the other end's, then derives the two directions' keys. Both ends
    /// write before they read, and a 33-byte write never waits for the other end, so neither waits for the other.
    /// </summary>
    /// <exception cref="LaneException">The other end closed first or speaks another version.</exception>
    public static (LaneRecordKey Send, LaneRecordKey Receive) Run(SslStream tls, LaneRole role, byte[] laneId, byte[] ownCertificateSha256, string name)
    {
        var own = new byte[LaneRecords.KeyMessageSize];
        var peer = new byte[LaneRecords.KeyMessageSize];
        try
        {
            own[0] = LaneRecords.Version;
            RandomNumberGenerator.Fill(own.AsSpan(1));
            tls.Write(own);
            tls.Flush();
            if (tls.ReadAtLeast(peer, peer.Length, throwOnEndOfStream: false) < peer.Length)
            {
                throw new LaneException($"{name}: the other end closed the lane before sending its key material");
            }

            if (peer[0] != LaneRecords.Version)
            {
                throw new LaneException($"{name}: the other end speaks lane records version {peer[0]}, this end version {LaneRecords.Version}");
            }

            var peerCertificateSha256 = SHA256.HashData(tls.RemoteCertificate?.GetRawCertData() ?? throw new LaneException($"{name}: the other end presented no certificate"));
            var (clientRandom, engineRandom) = role == LaneRole.Client ? (own, peer) : (peer, own);
            var (clientCertificate, engineCertificate) = role == LaneRole.Client ? (ownCertificateSha256, peerCertificateSha256) : (peerCertificateSha256, ownCertificateSha256);
            var other = role == LaneRole.Client ? LaneRole.Engine : LaneRole.Client;
            byte[] randoms = [.. clientRandom.AsSpan(1), .. engineRandom.AsSpan(1)];
            var secret = HKDF.Extract(HashAlgorithmName.SHA256, randoms, laneId);
            CryptographicOperations.ZeroMemory(randoms);
            try
            {
                return (Derive(secret, role, laneId, clientCertificate, engineCertificate), Derive(secret, other, laneId, clientCertificate, engineCertificate));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(secret);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(own);
            CryptographicOperations.ZeroMemory(peer);
        }
    }

    /// <summary>
    /// The key and IV of what <paramref name="sender"/> sends: HKDF-Expand(SHA-256) of the lane secret with the label,
    /// the direction and both certificates' hashes (client's first), so that no other lane, direction or pair of
    /// ends can share them.
    /// </summary>
    private static LaneRecordKey Derive(byte[] secret, LaneRole sender, byte[] laneId, byte[] clientCertificate, byte[] engineCertificate)
    {
        byte[] info = [.. Label, (byte)sender, .. clientCertificate, .. engineCertificate];
        var material = HKDF.Expand(HashAlgorithmName.SHA256, secret, LaneRecords.KeySize + LaneRecords.NonceSize, info);
        try
        {
            return new LaneRecordKey(material[..LaneRecords.KeySize], sender, iv: material[LaneRecords.KeySize..], laneId: laneId);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }
}

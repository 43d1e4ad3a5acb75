using System.Net.Security;
using System.Security.Cryptography;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// The step between the TLS handshake and the lane's records: each end sends the key of what it will send,
/// and reads the other's, inside the mutually authenticated TLS 1.3 session (see <see cref="LaneRecords"/>).
/// </summary>
internal static class LaneKeyExchange
{
    /// <summary>
    /// Sends this end's fresh key and reads the other end's. Both ends write before they read, and a
    /// 33-byte write never waits for the other end, so neither waits for the other.
    /// </summary>
    /// <exception cref="LaneException">The other end closed first or speaks another version.</exception>
    public static (LaneRecordKey Send, LaneRecordKey Receive) Run(SslStream tls, LaneRole role, string name)
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
                throw new LaneException($"{name}: the other end closed the lane before sending its record key");
            }

            if (peer[0] != LaneRecords.Version)
            {
                throw new LaneException($"{name}: the other end speaks lane records version {peer[0]}, this end version {LaneRecords.Version}");
            }

            var other = role == LaneRole.Client ? LaneRole.Engine : LaneRole.Client;
            return (new LaneRecordKey(own[1..], role), new LaneRecordKey(peer[1..], other));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(own);
            CryptographicOperations.ZeroMemory(peer);
        }
    }
}

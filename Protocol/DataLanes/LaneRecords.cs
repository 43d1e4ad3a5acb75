using System.Buffers.Binary;
using CapCluster.Protocol.Lanes;

namespace CapCluster.Protocol.DataLanes;

/// <summary>
/// The lane's record layer: what carries frames once the TLS handshake has given each end the other's key.
/// </summary>
/// <remarks>
/// <para>
/// Why: SslStream moves ~1 GB/s on this kind of machine (16 KiB records, each decrypted into its own buffer
/// and copied out, one call per record), while AES-256-GCM itself runs at ~5 GB/s per core. The kernel's TLS
/// offload (kTLS) would close that gap but is not available everywhere, so the lane does what it would do,
/// in user space: TLS 1.3 authenticates both ends (pinned certificates) and carries one key per direction,
/// then the data travels as large AES-GCM records on the raw socket.
/// </para>
/// <para>
/// Key exchange (<see cref="LaneKeyExchange"/>): after the handshake each end draws a random 256-bit value and
/// writes <see cref="KeyMessageSize"/> bytes inside TLS: the version <see cref="Version"/>, then the value. Each end
/// reads the other's message from TLS; from then on TLS is not used again (<see cref="LaneReads.TlsRecords"/>
/// keeps the switch exact). Both derive secret = HKDF-Extract(SHA-256, salt = lane id, client value || engine
/// value), and each direction's 32-byte key and 12-byte IV = HKDF-Expand(secret, "capcluster lane v2" || direction
/// || SHA-256 of the client's certificate || SHA-256 of the engine's): bound to this lane and these two ends.
/// </para>
/// <para>
/// A record on the wire: the plaintext length n as 4 bytes big-endian (1 ≤ n ≤ <see cref="MaxPlaintext"/>),
/// n bytes of AES-256-GCM ciphertext, a 16-byte tag. The length, the record type, the direction and the lane id are
/// the associated data, so they are authenticated; nonces are the IV XOR the record counter (<see cref="LaneRecordKey"/>).
/// An end that closes the lane sends the end-of-stream record, of length 0 (a tag alone): a stream that ends
/// without it was cut (or the other end died), and the reader says so instead of taking it for a close.
/// </para>
/// <para>
/// Frames keep their format (4-byte length, LaneFrame, blobs) as the plaintext, cut into records so that no
/// record holds bytes of two blobs or of the frame header and a blob: the receiver reads each blob record's
/// ciphertext straight into the value's final array and decrypts it there.
/// </para>
/// </remarks>
internal static class LaneRecords
{
    /// <summary>The key message's version byte.</summary>
    public const byte Version = 2;

    /// <summary>AES-256: 32 bytes of key.</summary>
    public const int KeySize = 32;

    /// <summary>The version byte and the key.</summary>
    public const int KeyMessageSize = 1 + KeySize;

    /// <summary>The plaintext length in front of each record.</summary>
    public const int HeaderSize = 4;

    /// <summary>The GCM tag after each record.</summary>
    public const int TagSize = 16;

    /// <summary>96-bit nonces: 4 bytes of direction, 8 of record counter.</summary>
    public const int NonceSize = 12;

    /// <summary>A sealed record's length beyond its plaintext.</summary>
    public const int Overhead = HeaderSize + TagSize;

    /// <summary>The largest sealed record: header, ciphertext and tag fill a 1 MiB buffer.</summary>
    public const int MaxRecordSize = 1024 * 1024;

    /// <summary>The most plaintext one record carries.</summary>
    public const int MaxPlaintext = MaxRecordSize - Overhead;

    /// <summary>
    /// Records sealed under one key before both ends derive the next. With at most 1 MiB each, a key seals
    /// at most 2^18 × 2^16 = 2^34 AES blocks, within the 2^34.5 that TLS 1.3 allows for AES-GCM.
    /// </summary>
    public const long RecordsPerKey = 1L << 18;

    /// <summary>
    /// Reads record <paramref name="record"/>'s length into <paramref name="header"/> and its data (plain or sealed)
    /// into the start of <paramref name="destination"/>, straight from <paramref name="network"/>; returns the length,
    /// 0 for the end-of-stream record. What follows the data (a sealed record's tag) is the caller's to read.
    /// </summary>
    /// <exception cref="LaneException">The stream ended inside the record or before it, or the length is out of bounds.</exception>
    public static int ReadData(Stream network, Span<byte> header, Span<byte> destination, long record)
    {
        var got = network.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got == 0)
        {
            throw new LaneException($"the stream ended at record {record} without the end-of-stream record: it was cut, or the other end died");
        }

        if (got < header.Length)
        {
            throw Cut(record, got, "its header");
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is < 0 or > MaxPlaintext)
        {
            throw new LaneException($"record {record} claims {length} bytes of data (a record carries 1 to {MaxPlaintext}, the end-of-stream record 0)");
        }

        if (length > destination.Length)
        {
            throw new LaneException($"record {record} carries {length} bytes where at most {destination.Length} belong");
        }

        got = network.ReadAtLeast(destination[..length], length, throwOnEndOfStream: false);
        if (got < length)
        {
            throw Cut(record, header.Length + got, $"its {length} bytes of data");
        }

        return length;
    }

    /// <summary>The stream ended inside <paramref name="record"/>, after <paramref name="received"/> of its bytes, before the end of <paramref name="part"/>.</summary>
    public static LaneException Cut(long record, long received, string part) =>
        new($"the stream ended inside record {record}, after {received} bytes, before the end of {part}");
}

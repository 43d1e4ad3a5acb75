using System.Buffers.Binary;
using System.Security.Cryptography;
using CapCluster.Protocol.Lanes;

namespace CapCluster.Protocol.DataLanes;

/// <summary>
/// The AES-256-GCM key of one direction of a lane and its record counter: seals or opens the records of
/// that direction, in order. Not thread-safe: one sender, or the one reader, owns it.
/// </summary>
/// <remarks>
/// The nonce of record n is the direction's IV XOR n (as a 12-byte big-endian number, RFC 8446 §5.3): never reused
/// under one key. A dropped, repeated or reordered record is opened with another nonce than it was sealed with, so
/// it fails authentication like an altered one. The associated data is the record's header (its length, 0 for the
/// end-of-stream record), its type, the direction and the lane id: a record of another lane, direction or type
/// fails too.
/// Every <see cref="LaneRecords.RecordsPerKey"/> records both ends replace the key with
/// HKDF-Expand(SHA-256, key, "capcluster lane key update"), in step and without a message, so that no key
/// seals more than 2^34 AES blocks (the bound TLS 1.3 keeps for AES-GCM, RFC 8446 §5.5).
/// </remarks>
internal sealed class LaneRecordKey : IDisposable
{
    private static readonly byte[] UpdateLabel = "capcluster lane key update"u8.ToArray();

    private readonly byte direction;
    private readonly byte[] iv;
    private readonly byte[] laneId;
    private readonly long recordsPerKey;
    private byte[] key;
    private AesGcm aes;

    /// <summary>
    /// Takes ownership of <paramref name="key"/> (32 bytes; zeroed when replaced or disposed). <paramref name="iv"/>
    /// (12 bytes) defaults to the direction in its first 4 bytes; <paramref name="laneId"/> to none.
    /// </summary>
    public LaneRecordKey(byte[] key, LaneRole sender, long recordsPerKey = LaneRecords.RecordsPerKey, byte[]? iv = null, byte[]? laneId = null)
    {
        this.key = key;
        direction = (byte)sender;
        this.iv = iv?.ToArray() ?? [0, 0, 0, (byte)sender, 0, 0, 0, 0, 0, 0, 0, 0];
        this.laneId = laneId?.ToArray() ?? [];
        this.recordsPerKey = recordsPerKey;
        aes = new AesGcm(key, LaneRecords.TagSize);
    }

    /// <summary>The number of the next record, counted from 0 over the lane's life.</summary>
    public long Record { get; private set; }

    /// <summary>Encrypts <paramref name="plaintext"/> as the next record; <paramref name="header"/> is authenticated too.</summary>
    public void Seal(ReadOnlySpan<byte> header, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[LaneRecords.NonceSize];
        Span<byte> associated = stackalloc byte[AssociatedSize];
        Next(nonce);
        aes.Encrypt(nonce, plaintext, ciphertext, tag, Associated(header, associated));
    }

    private int AssociatedSize => LaneRecords.HeaderSize + 2 + laneId.Length;

    /// <summary>The header, the record type (1: data, 2: end of stream), the direction and the lane id.</summary>
    private ReadOnlySpan<byte> Associated(ReadOnlySpan<byte> header, Span<byte> associated)
    {
        header.CopyTo(associated);
        associated[LaneRecords.HeaderSize] = BinaryPrimitives.ReadInt32BigEndian(header) == 0 ? (byte)2 : (byte)1;
        associated[LaneRecords.HeaderSize + 1] = direction;
        laneId.CopyTo(associated[(LaneRecords.HeaderSize + 2)..]);
        return associated;
    }

    /// <summary>Authenticates and decrypts the next record in place; false (and the span zeroed) if it fails.</summary>
    public bool TryOpen(ReadOnlySpan<byte> header, Span<byte> data, ReadOnlySpan<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[LaneRecords.NonceSize];
        Span<byte> associated = stackalloc byte[AssociatedSize];
        Next(nonce);
        try
        {
            // OpenSSL's GCM decrypts in place when input and output are the same span; AesGcm passes both through.
            aes.Decrypt(nonce, data, tag, data, Associated(header, associated));
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        aes.Dispose();
        CryptographicOperations.ZeroMemory(key);
    }

    /// <summary>Zeroes the IV too: the key is done with for good (the key updates call <see cref="Dispose"/> for the key alone).</summary>
    public void Destroy()
    {
        Dispose();
        CryptographicOperations.ZeroMemory(iv);
    }

    private void Next(Span<byte> nonce)
    {
        if (Record == long.MaxValue)
        {
            throw new LaneException($"record {Record} would exhaust the record counter");
        }

        if (Record > 0 && Record % recordsPerKey == 0)
        {
            var next = HKDF.Expand(HashAlgorithmName.SHA256, key, LaneRecords.KeySize, UpdateLabel);
            Dispose();
            key = next;
            aes = new AesGcm(key, LaneRecords.TagSize);
        }

        iv.CopyTo(nonce);
        var counter = BinaryPrimitives.ReadInt64BigEndian(nonce[4..]) ^ Record;
        BinaryPrimitives.WriteInt64BigEndian(nonce[4..], counter);
        Record++;
    }
}

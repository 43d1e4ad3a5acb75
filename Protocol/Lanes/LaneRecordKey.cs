using System.Buffers.Binary;
using System.Security.Cryptography;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// The AES-256-GCM key of one direction of a lane and its record counter: seals or opens the records of
/// that direction, in order. Not thread-safe: one sender, or the one reader, owns it.
/// </summary>
/// <remarks>
/// The nonce of record n is the sender's role as a 4-byte big-endian number followed by n as an 8-byte
/// big-endian number: never reused under one key, and the keys of the two directions differ anyway (each
/// end chooses its own). A dropped, repeated or reordered record is opened with another nonce than it was
/// sealed with, so it fails authentication like an altered one.
/// Every <see cref="LaneRecords.RecordsPerKey"/> records both ends replace the key with
/// HKDF-Expand(SHA-256, key, "capcluster lane key update"), in step and without a message, so that no key
/// seals more than 2^34 AES blocks (the bound TLS 1.3 keeps for AES-GCM, RFC 8446 §5.5).
/// </remarks>
internal sealed class LaneRecordKey : IDisposable
{
    private static readonly byte[] UpdateLabel = "capcluster lane key update"u8.ToArray();

    private readonly uint direction;
    private readonly long recordsPerKey;
    private byte[] key;
    private AesGcm aes;

    /// <summary>Takes ownership of <paramref name="key"/> (32 bytes; zeroed when replaced or disposed).</summary>
    public LaneRecordKey(byte[] key, LaneRole sender, long recordsPerKey = LaneRecords.RecordsPerKey)
    {
        this.key = key;
        direction = (uint)sender;
        this.recordsPerKey = recordsPerKey;
        aes = new AesGcm(key, LaneRecords.TagSize);
    }

    /// <summary>The number of the next record, counted from 0 over the lane's life.</summary>
    public long Record { get; private set; }

    /// <summary>Encrypts <paramref name="plaintext"/> as the next record; <paramref name="header"/> is authenticated too.</summary>
    public void Seal(ReadOnlySpan<byte> header, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[LaneRecords.NonceSize];
        Next(nonce);
        aes.Encrypt(nonce, plaintext, ciphertext, tag, header);
    }

    /// <summary>Authenticates and decrypts the next record in place; false (and the span zeroed) if it fails.</summary>
    public bool TryOpen(ReadOnlySpan<byte> header, Span<byte> data, ReadOnlySpan<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[LaneRecords.NonceSize];
        Next(nonce);
        try
        {
            // OpenSSL's GCM decrypts in place when input and output are the same span; AesGcm passes both through.
            aes.Decrypt(nonce, data, tag, data, header);
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

        BinaryPrimitives.WriteUInt32BigEndian(nonce, direction);
        BinaryPrimitives.WriteInt64BigEndian(nonce[4..], Record);
        Record++;
    }
}

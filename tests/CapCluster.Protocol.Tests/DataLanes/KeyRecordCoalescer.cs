using System.Buffers.Binary;

namespace CapCluster.Protocol.Tests.DataLanes;

/// <summary>
/// Holds back an end's key record (the one TLS application-data record of exactly 50 bytes: 33 bytes of
/// message, the inner content type and the tag) until that end's first lane record has arrived complete,
/// then passes both on in one write: the receiving end gets them in one read, the hardest case for the
/// switch from TLS to records. A 50-byte record followed by another TLS record was not the key and is released.
/// </summary>
internal sealed class KeyRecordCoalescer : LaneTamper
{
    private const byte ApplicationData = 23;
    private const int KeyRecordLength = 50;

    private readonly MemoryStream pending = new();
    private bool done;

    /// <summary>True once a key record and the lane record after it went out together.</summary>
    public bool Coalesced => done;

    public override (ReadOnlyMemory<byte> Output, bool Cut) Pass(ReadOnlySpan<byte> chunk)
    {
        if (done)
        {
            return (chunk.ToArray(), false);
        }

        pending.Write(chunk);
        var buffered = pending.GetBuffer().AsSpan(0, (int)pending.Length);
        var scanned = 0;
        int? heldFrom = null;
        while (!done && buffered.Length - scanned >= 5)
        {
            var rest = buffered[scanned..];

            // TLS content types are 20 to 24; a lane record starts with the high byte of a length under 2^24.
            var size = rest[0] == 0
                ? 4 + BinaryPrimitives.ReadInt32BigEndian(rest) + 16
                : 5 + BinaryPrimitives.ReadUInt16BigEndian(rest[3..]);
            if (rest.Length < size)
            {
                break;
            }

            done = rest[0] == 0;
            heldFrom = rest[0] == ApplicationData && size == 5 + KeyRecordLength ? heldFrom ?? scanned : rest[0] == 0 ? heldFrom : null;
            scanned += size;
        }

        var release = done ? buffered.Length : heldFrom ?? scanned;
        var output = buffered[..release].ToArray();
        var kept = buffered[release..].ToArray();
        pending.SetLength(0);
        pending.Write(kept);
        return (output, false);
    }
}

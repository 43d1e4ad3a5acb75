using System.Buffers.Binary;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// Reads lane records (see <see cref="LaneRecords"/>) from the socket: each record's ciphertext goes
/// straight into the span it belongs to and is authenticated and decrypted there. Any fault (an altered,
/// dropped or reordered record, a length out of bounds, a stream cut inside a record) throws a
/// <see cref="LaneException"/> naming the record, and the span's bytes are not valid data.
/// </summary>
internal sealed class LaneRecordReader(Stream network, LaneRecordKey key)
{
    /// <summary>
    /// Reads the next record into the start of <paramref name="destination"/>, which it must fit; returns its
    /// plaintext length, or 0 when the stream ended cleanly before the record began.
    /// </summary>
    public int Read(Span<byte> destination)
    {
        var record = key.Record;
        Span<byte> header = stackalloc byte[LaneRecords.HeaderSize];
        var got = network.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got == 0)
        {
            return 0;
        }

        if (got < header.Length)
        {
            throw Cut(record, got, "its header");
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is < 1 or > LaneRecords.MaxPlaintext)
        {
            throw new LaneException($"record {record} claims {length} bytes of data (a record carries 1 to {LaneRecords.MaxPlaintext})");
        }

        if (length > destination.Length)
        {
            throw new LaneException($"record {record} carries {length} bytes where at most {destination.Length} belong");
        }

        var data = destination[..length];
        got = network.ReadAtLeast(data, length, throwOnEndOfStream: false);
        if (got < length)
        {
            throw Cut(record, header.Length + got, $"its {length} bytes of data");
        }

        Span<byte> tag = stackalloc byte[LaneRecords.TagSize];
        got = network.ReadAtLeast(tag, tag.Length, throwOnEndOfStream: false);
        if (got < tag.Length)
        {
            throw Cut(record, header.Length + length + got, "its tag");
        }

        if (!key.TryOpen(header, data, tag))
        {
            throw new LaneException($"record {record} failed authentication (altered, dropped, repeated or reordered on the way)");
        }

        return length;
    }

    /// <summary>Fills <paramref name="destination"/> with the plaintext of as many records as it takes, which must end exactly at its end.</summary>
    public void ReadExactly(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            var length = Read(destination);
            if (length == 0)
            {
                throw new LaneException($"the stream ended before record {key.Record}, in the middle of a frame");
            }

            destination = destination[length..];
        }
    }

    private static LaneException Cut(long record, long received, string part) =>
        new($"the stream ended inside record {record}, after {received} bytes, before the end of {part}");
}

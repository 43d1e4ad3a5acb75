using CapCluster.Protocol.Lanes;

namespace CapCluster.Protocol.DataLanes;

/// <summary>
/// Reads lane records (see <see cref="LaneRecords"/>) from the socket: each record's ciphertext goes
/// straight into the span it belongs to and is authenticated and decrypted there. Any fault (an altered,
/// dropped or reordered record, a length out of bounds, a stream cut inside a record) throws a
/// <see cref="LaneException"/> naming the record, and the span's bytes are not valid data. So does a stream that
/// ends without the end-of-stream record: it was cut, or the other end died.
/// </summary>
internal sealed class LaneRecordReader(Stream network, LaneRecordKey key) : ILaneRecordReader
{
    private bool ended;

    public long Record => key.Record;

    /// <summary>
    /// Reads the next record into the start of <paramref name="destination"/>, which it must fit; returns its
    /// plaintext length, or 0 once the other end sent the end-of-stream record.
    /// </summary>
    /// <exception cref="LaneException">A record failed, or the stream ended without the end-of-stream record.</exception>
    public int Read(Span<byte> destination)
    {
        if (ended)
        {
            return 0;
        }

        var record = key.Record;
        Span<byte> header = stackalloc byte[LaneRecords.HeaderSize];
        Span<byte> tag = stackalloc byte[LaneRecords.TagSize];
        var length = ReadSealed(destination, record, header, tag);
        if (!key.TryOpen(header, destination[..length], tag))
        {
            throw AuthenticationFailed(record);
        }

        ended = length == 0;
        return length;
    }

    /// <summary>Fills <paramref name="destination"/> with the plaintext of as many records as it takes, which must end exactly at its end.</summary>
    public void ReadExactly(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            var record = key.Record;
            var length = Read(destination);
            if (length == 0)
            {
                throw EndedBefore(record);
            }

            destination = destination[length..];
        }
    }

    /// <summary>
    /// As <see cref="ReadExactly(Span{byte})"/>; a destination of several records is opened by a
    /// <see cref="LaneStage"/> (when one can be had) while the next records are received, so that the copy out of
    /// the kernel and the decryption overlap. When several records fail, the first is named, as when read one by one.
    /// </summary>
    public void ReadExactly(Memory<byte> destination)
    {
        using var stage = destination.Length > LaneRecords.MaxPlaintext ? LaneStage.TryStart("lane record opener") : null;
        if (stage is null)
        {
            ReadExactly(destination.Span);
            return;
        }

        // The stage owns the key until drained: it opens the records in order, with their nonces and key updates.
        var record = key.Record;
        try
        {
            while (!destination.IsEmpty && !stage.Failed)
            {
                var sealedParts = new byte[LaneRecords.HeaderSize + LaneRecords.TagSize];
                var length = ReadSealed(destination.Span, record, sealedParts.AsSpan(0, LaneRecords.HeaderSize), sealedParts.AsSpan(LaneRecords.HeaderSize));
                if (length == 0)
                {
                    throw EndedBefore(record);
                }

                var data = destination[..length];
                var number = record;
                stage.Post(() =>
                {
                    if (!key.TryOpen(sealedParts.AsSpan(0, LaneRecords.HeaderSize), data.Span, sealedParts.AsSpan(LaneRecords.HeaderSize)))
                    {
                        // The lane is done for: closing the stream wakes the reader if it waits for records that
                        // will never come (one was dropped), and it then names this record.
                        network.Dispose();
                        throw AuthenticationFailed(number);
                    }
                });
                destination = destination[length..];
                record++;
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            stage.Drain(); // throws for an earlier record that failed: that one is the one to name
            throw;
        }

        stage.Drain();
    }

    /// <summary>
    /// Reads record <paramref name="record"/>'s length into <paramref name="header"/>, its ciphertext into the start
    /// of <paramref name="destination"/> and its tag into <paramref name="tag"/>, without opening it; returns its
    /// length, 0 for the end-of-stream record (not yet authenticated).
    /// </summary>
    private int ReadSealed(Span<byte> destination, long record, Span<byte> header, Span<byte> tag)
    {
        var length = LaneRecords.ReadData(network, header, destination, record);
        var got = network.ReadAtLeast(tag, tag.Length, throwOnEndOfStream: false);
        if (got < tag.Length)
        {
            throw LaneRecords.Cut(record, header.Length + length + got, "its tag");
        }

        return length;
    }

    private static LaneException AuthenticationFailed(long record) =>
        new($"record {record} failed authentication (altered, dropped, repeated or reordered on the way)");

    private static LaneException EndedBefore(long record) =>
        new($"the stream ended before record {record}, in the middle of a frame");

}

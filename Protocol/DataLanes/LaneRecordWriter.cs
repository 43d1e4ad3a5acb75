using System.Buffers;
using System.Buffers.Binary;

namespace CapCluster.Protocol.DataLanes;

/// <summary>
/// Seals plaintext into lane records (see <see cref="LaneRecords"/>) in a pooled buffer and writes them to
/// the socket when the buffer is full or on <see cref="Flush"/>: a large piece goes out a record at a time,
/// small pieces (a frame header, small blobs) share one write. One per send; return the buffers with Dispose.
/// </summary>
/// <remarks>
/// A piece of several records is written by a <see cref="LaneStage"/> (when one can be had) a buffer at a time while
/// the next buffer is sealed, so that the encryption and the copy into the kernel overlap; at most one buffer is
/// being written.
/// </remarks>
internal sealed class LaneRecordWriter(Stream network, LaneRecordKey key) : ILaneRecordWriter
{
    private byte[] buffer = ArrayPool<byte>.Shared.Rent(LaneRecords.MaxRecordSize);
    private byte[]? spare;
    private LaneStage? stage;
    private bool alone;
    private int used;

    /// <summary>Seals <paramref name="plaintext"/> into records of its own (none if it is empty).</summary>
    public void Write(ReadOnlySpan<byte> plaintext)
    {
        while (!plaintext.IsEmpty)
        {
            var length = Math.Min(plaintext.Length, LaneRecords.MaxPlaintext);
            if (used + length + LaneRecords.Overhead > LaneRecords.MaxRecordSize)
            {
                WriteBehind();
            }

            var record = buffer.AsSpan(used, length + LaneRecords.Overhead);
            BinaryPrimitives.WriteInt32BigEndian(record, length);
            var header = record[..LaneRecords.HeaderSize];
            key.Seal(header, plaintext[..length], record.Slice(LaneRecords.HeaderSize, length), record[(LaneRecords.HeaderSize + length)..]);
            used += record.Length;
            plaintext = plaintext[length..];
        }
    }

    /// <summary>Seals the end-of-stream record (length 0, a tag alone): nothing may be written after it.</summary>
    public void WriteEnd()
    {
        if (used + LaneRecords.Overhead > LaneRecords.MaxRecordSize)
        {
            WriteBehind();
        }

        var record = buffer.AsSpan(used, LaneRecords.Overhead);
        BinaryPrimitives.WriteInt32BigEndian(record, 0);
        key.Seal(record[..LaneRecords.HeaderSize], [], [], record[LaneRecords.HeaderSize..]);
        used += record.Length;
    }

    /// <summary>Writes the sealed records still in the buffer, and waits for every earlier write.</summary>
    /// <exception cref="IOException">A write failed (here or on the stage).</exception>
    public void Flush()
    {
        stage?.Drain();
        network.Write(buffer.AsSpan(0, used));
        used = 0;
    }

    public void Dispose()
    {
        stage?.Dispose();
        ArrayPool<byte>.Shared.Return(buffer);
        if (spare is not null)
        {
            ArrayPool<byte>.Shared.Return(spare);
        }
    }

    /// <summary>Hands the full buffer to the stage to write, and seals on in the other one; without a stage, writes it.</summary>
    private void WriteBehind()
    {
        if (stage is null && !alone)
        {
            stage = LaneStage.TryStart("lane record writer");
            alone = stage is null;
        }

        if (stage is null)
        {
            network.Write(buffer.AsSpan(0, used));
            used = 0;
            return;
        }

        stage.Drain(); // the other buffer's write is done: it may be sealed into again
        var full = buffer;
        var length = used;
        stage.Post(() => network.Write(full.AsSpan(0, length)));
        buffer = spare ?? ArrayPool<byte>.Shared.Rent(LaneRecords.MaxRecordSize);
        spare = full;
        used = 0;
    }
}

using System.Buffers;
using System.Buffers.Binary;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// Seals plaintext into lane records (see <see cref="LaneRecords"/>) in a pooled buffer and writes them to
/// the socket when the buffer is full or on <see cref="Flush"/>: a large piece goes out a record at a time,
/// small pieces (a frame header, small blobs) share one write. One per send; return the buffer with Dispose.
/// </summary>
internal sealed class LaneRecordWriter(Stream network, LaneRecordKey key) : IDisposable
{
    private readonly byte[] buffer = ArrayPool<byte>.Shared.Rent(LaneRecords.MaxRecordSize);
    private int used;

    /// <summary>Seals <paramref name="plaintext"/> into records of its own (none if it is empty).</summary>
    public void Write(ReadOnlySpan<byte> plaintext)
    {
        while (!plaintext.IsEmpty)
        {
            var length = Math.Min(plaintext.Length, LaneRecords.MaxPlaintext);
            if (used + length + LaneRecords.Overhead > LaneRecords.MaxRecordSize)
            {
                Flush();
            }

            var record = buffer.AsSpan(used, length + LaneRecords.Overhead);
            BinaryPrimitives.WriteInt32BigEndian(record, length);
            var header = record[..LaneRecords.HeaderSize];
            key.Seal(header, plaintext[..length], record.Slice(LaneRecords.HeaderSize, length), record[(LaneRecords.HeaderSize + length)..]);
            used += record.Length;
            plaintext = plaintext[length..];
        }
    }

    /// <summary>Writes the sealed records still in the buffer.</summary>
    public void Flush()
    {
        network.Write(buffer.AsSpan(0, used));
        used = 0;
    }

    public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);
}

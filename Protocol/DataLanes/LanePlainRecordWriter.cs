using System.Buffers;
using System.Buffers.Binary;

namespace CapCluster.Protocol.DataLanes;

/// <summary>
/// Writes plain records on a lane between two processes of this host, where the kernel is the boundary and
/// nothing is sealed: a record is the data's length n as 4 bytes big-endian (1 ≤ n ≤ <see cref="LaneRecords.MaxPlaintext"/>,
/// 0 for the end-of-stream record), then the n bytes. Frames are cut into records as on a sealed lane, so the
/// reader puts each blob straight into its final array. Small pieces (a frame header, small blobs) share one write;
/// a large one goes from the caller's memory into the kernel without a copy of its own, a record header then its bytes.
/// One per send; return the buffer with Dispose.
/// </summary>
/// <remarks>
/// Why a Unix socket and not a sealed memfd passed over it: both copy each byte twice (into the kernel or the
/// mapping, then out into the receiving array, since a .NET array cannot live in a mapping), but on a socket the two
/// copies run at once on two cores, a record at a time, while a memfd is filled, sealed and only then read, and each
/// of its fresh pages is zeroed and faulted in first. The socket also keeps the lane's framing, budgets and close
/// semantics as they are, and needs no code beyond these records.
/// </remarks>
internal sealed class LanePlainRecordWriter(Stream network) : ILaneRecordWriter
{
    // Pieces up to this size are gathered; larger ones are written where they are.
    private const int Gathered = 64 * 1024;

    private readonly byte[] buffer = ArrayPool<byte>.Shared.Rent(Gathered + LaneRecords.HeaderSize);
    private int used;

    public void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var length = Math.Min(data.Length, LaneRecords.MaxPlaintext);
            if (length > Gathered)
            {
                Header(length);
                Flush();
                network.Write(data[..length]);
            }
            else
            {
                if (used + LaneRecords.HeaderSize + length > buffer.Length)
                {
                    Flush();
                }

                Header(length);
                data[..length].CopyTo(buffer.AsSpan(used));
                used += length;
            }

            data = data[length..];
        }
    }

    public void WriteEnd()
    {
        Header(0);
    }

    public void Flush()
    {
        if (used > 0)
        {
            network.Write(buffer.AsSpan(0, used));
            used = 0;
        }
    }

    public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);

    private void Header(int length)
    {
        if (used + LaneRecords.HeaderSize > buffer.Length)
        {
            Flush();
        }

        BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(used), length);
        used += LaneRecords.HeaderSize;
    }
}

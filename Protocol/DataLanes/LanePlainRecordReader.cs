using CapCluster.Protocol.Lanes;

namespace CapCluster.Protocol.DataLanes;

/// <summary>
/// Reads the plain records of a lane between two processes of this host (see <see cref="LanePlainRecordWriter"/>):
/// each record's bytes go from the kernel straight into the span they belong to, a received array's bytes into
/// that array, once. A length out of bounds, or a stream that ends inside a record or without the end-of-stream
/// record, throws a <see cref="LaneException"/> naming the record.
/// </summary>
internal sealed class LanePlainRecordReader(Stream network) : ILaneRecordReader
{
    private bool ended;

    public long Record { get; private set; }

    public int Read(Span<byte> destination)
    {
        if (ended)
        {
            return 0;
        }

        Span<byte> header = stackalloc byte[LaneRecords.HeaderSize];
        var length = LaneRecords.ReadData(network, header, destination, Record);
        Record++;
        ended = length == 0;
        return length;
    }

    public void ReadExactly(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            var record = Record;
            var length = Read(destination);
            if (length == 0)
            {
                throw new LaneException($"the stream ended before record {record}, in the middle of a frame");
            }

            destination = destination[length..];
        }
    }

    // Nothing to overlap with the copy out of the kernel: there is no decryption.
    public void ReadExactly(Memory<byte> destination) => ReadExactly(destination.Span);
}

using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Protocol.Lanes;

public sealed partial class LaneConnection
{
    /// <summary>The reader thread: frames, in order, into the inbox, until the lane closes or breaks.</summary>
    private void ReadAll()
    {
        Exception reason;
        try
        {
            while (ReadFrame() is { } frame)
            {
                var values = new ReceivedValues(frame.Values, frame.BlobLengths);
                values.ReadBlobs(records.ReadExactly);
                inbox.Deliver(frame.Transfer, values);
            }

            reason = new LaneException($"{Name} was closed by the other end");
        }
        catch (Exception e) when (Volatile.Read(ref closing) == 1 && e is IOException or SocketException or ObjectDisposedException)
        {
            reason = new LaneException($"{Name} is closed");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidProtocolBufferException or RpcException or Values.MalformedValueException)
        {
            reason = new LaneException($"{Name} broke: {(e is RpcException rpc ? rpc.Status.Detail : e.Message)}", e);
        }

        inbox.Close(reason);
        Close();
        receiveKey.Dispose();
    }

    /// <summary>
    /// The next frame's header (its 4-byte length and the LaneFrame), from the records before its blobs;
    /// null when the other end closed the lane between frames.
    /// </summary>
    private LaneFrame? ReadFrame()
    {
        var first = ArrayPool<byte>.Shared.Rent(LaneRecords.MaxPlaintext);
        try
        {
            var record = receiveKey.Record;
            var length = records.Read(first);
            if (length == 0)
            {
                return null;
            }

            var size = length < 4 ? -1 : BinaryPrimitives.ReadInt32BigEndian(first);
            if (size is < 0 or > MaxFrameHeaderSize || length - 4 > size)
            {
                throw new LaneException($"record {record} does not start a frame header (a frame header has at most {MaxFrameHeaderSize} bytes)");
            }

            if (length - 4 == size)
            {
                return LaneFrame.Parser.ParseFrom(first, 4, size);
            }

            // A header larger than a record continues in the records that follow.
            var header = ArrayPool<byte>.Shared.Rent(size);
            try
            {
                first.AsSpan(4, length - 4).CopyTo(header);
                records.ReadExactly(header.AsSpan(length - 4, size - (length - 4)));
                return LaneFrame.Parser.ParseFrom(header, 0, size);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(header);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(first);
        }
    }
}

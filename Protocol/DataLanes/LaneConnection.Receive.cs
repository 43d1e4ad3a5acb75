using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Protocol.DataLanes;

public sealed partial class LaneConnection
{
    /// <summary>The reader thread: frames, in order, into the inbox, until the lane closes or breaks.</summary>
    private void ReadAll()
    {
        LaneException reason;
        try
        {
            while (ReadFrame(out var allowed) is { } frame)
            {
                // Allocated only within what was announced for this transfer: a frame announcing more closes the lane.
                var values = new ReceivedValues(frame.Values, frame.BlobLengths, allowed);
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

        CloseReason = reason;
        inbox.Close(reason);
        Close();
        receiveKey?.Destroy();
    }

    /// <summary>
    /// The next frame's header (its 4-byte length and the LaneFrame), from the records before its blobs, and in
    /// <paramref name="allowed"/> the most blob bytes its transfer may carry; null when the other end closed the lane
    /// between frames. The transfer is read from the frame's first bytes and must have been expected before anything
    /// more of the frame is read or allocated.
    /// </summary>
    /// <exception cref="LaneException">The frame is malformed, or its transfer was not expected.</exception>
    private LaneFrame? ReadFrame(out long allowed)
    {
        allowed = 0;
        var first = ArrayPool<byte>.Shared.Rent(LaneRecords.MaxPlaintext);
        try
        {
            var record = records.Record;
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

            var transfer = PeekTransfer(first.AsSpan(4, length - 4));
            allowed = inbox.TakeExpected(transfer, ExpectTimeout)
                ?? throw new LaneException($"transfer {transfer} arrived on {Name}, but nothing announced it within {ExpectTimeout.TotalSeconds:0} s " +
                    "(a call this lane's holder may make announces each transfer)");
            if (length - 4 == size)
            {
                return Checked(LaneFrame.Parser.ParseFrom(first, 4, size), transfer);
            }

            // A header larger than a record continues in the records that follow.
            var header = ArrayPool<byte>.Shared.Rent(size);
            try
            {
                first.AsSpan(4, length - 4).CopyTo(header);
                records.ReadExactly(header.AsSpan(length - 4, size - (length - 4)));
                return Checked(LaneFrame.Parser.ParseFrom(header, 0, size), transfer);
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

    /// <summary>The transfer a frame header starts with (field 1, which a LaneFrame writes first); 0 when it does not start with one.</summary>
    private static long PeekTransfer(ReadOnlySpan<byte> header)
    {
        const byte transferTag = (1 << 3) | 0; // field 1, varint
        if (header.Length < 2 || header[0] != transferTag)
        {
            return 0;
        }

        long value = 0;
        for (var i = 1; i < Math.Min(header.Length, 11); i++)
        {
            value |= (long)(header[i] & 0x7f) << (7 * (i - 1));
            if ((header[i] & 0x80) == 0)
            {
                return value;
            }
        }

        return 0;
    }

    /// <summary>The frame, when its transfer is the one its first bytes named (a later repeat of the field would override it).</summary>
    private LaneFrame Checked(LaneFrame frame, long transfer) =>
        frame.Transfer == transfer ? frame : throw new LaneException($"a frame on {Name} named transfer {transfer} first and {frame.Transfer} after");
}

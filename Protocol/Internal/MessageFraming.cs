using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;

namespace CapCluster.Protocol.Internal;

/// <summary>Length-prefixed message framing: a compressed flag byte, a 4-byte big-endian length, the message.</summary>
internal static class MessageFraming
{
    public static int CheckSendSize(IMessage message, int maxSendSize)
    {
        var size = message.CalculateSize();
        if (size > maxSendSize)
        {
            throw new RpcException(new Status(
                StatusCode.ResourceExhausted,
                $"cannot send a message of {size} bytes: the limit is {maxSendSize} bytes"));
        }

        return size;
    }

    /// <summary>
    /// Writes prefix and message into <paramref name="writer"/> without flushing; small messages go
    /// into one contiguous span so they leave as one buffer.
    /// </summary>
    public static void Write(PipeWriter writer, IMessage message, int size)
    {
        if (size <= GrpcProtocol.ContiguousWriteLimit)
        {
            var span = writer.GetSpan(GrpcProtocol.HeaderSize + size);
            WritePrefix(span, size);
            message.WriteTo(span.Slice(GrpcProtocol.HeaderSize, size));
            writer.Advance(GrpcProtocol.HeaderSize + size);
        }
        else
        {
            var span = writer.GetSpan(GrpcProtocol.HeaderSize);
            WritePrefix(span, size);
            writer.Advance(GrpcProtocol.HeaderSize);
            message.WriteTo(writer);
        }
    }

    /// <summary>Serializes prefix and message into one rented buffer; return it with <see cref="ArrayPool{T}.Return"/>.</summary>
    public static byte[] Serialize(IMessage message, int size, out int length)
    {
        length = GrpcProtocol.HeaderSize + size;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        WritePrefix(buffer, size);
        message.WriteTo(buffer.AsSpan(GrpcProtocol.HeaderSize, size));
        return buffer;
    }

    private static void WritePrefix(Span<byte> span, int size)
    {
        span[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span.Slice(1, 4), (uint)size);
    }

    private static (byte Flag, uint Length) ReadPrefix(in ReadOnlySequence<byte> buffer)
    {
        Span<byte> prefix = stackalloc byte[GrpcProtocol.HeaderSize];
        buffer.Slice(0, GrpcProtocol.HeaderSize).CopyTo(prefix);
        return (prefix[0], BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]));
    }

    /// <summary>
    /// Reads the next message, or returns null at a clean end of the stream. Parses straight from
    /// the pipe's buffers (no intermediate copy). Protocol errors become <see cref="RpcException"/>.
    /// </summary>
    public static async ValueTask<T?> ReadAsync<T>(
        PipeReader reader, MessageParser<T> parser, int maxReceiveSize, bool compressionAllowed, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            var buffer = result.Buffer;
            if (buffer.Length >= GrpcProtocol.HeaderSize)
            {
                var (flag, length) = ReadPrefix(buffer);
                if (flag > 1)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    throw new RpcException(new Status(StatusCode.Internal, $"invalid message prefix: compressed flag {flag}"));
                }

                if (flag == 1 && !compressionAllowed)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    throw new RpcException(new Status(
                        StatusCode.Internal, "a message has the compressed flag set but no grpc-encoding was negotiated"));
                }

                if (length > (uint)maxReceiveSize)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    throw new RpcException(new Status(
                        StatusCode.ResourceExhausted,
                        $"received a message of {length} bytes, more than the limit of {maxReceiveSize} bytes"));
                }

                var total = GrpcProtocol.HeaderSize + (long)length;
                if (buffer.Length >= total)
                {
                    var body = buffer.Slice(GrpcProtocol.HeaderSize, length);
                    T message;
                    try
                    {
                        message = parser.ParseFrom(body);
                    }
                    catch (InvalidProtocolBufferException ex)
                    {
                        reader.AdvanceTo(buffer.GetPosition(total));
                        throw new RpcException(new Status(
                            StatusCode.Internal, $"a {typeof(T).Name} message could not be parsed"), ex);
                    }

                    reader.AdvanceTo(buffer.GetPosition(total));
                    return message;
                }
            }

            if (result.IsCompleted)
            {
                var leftover = buffer.Length;
                reader.AdvanceTo(buffer.End);
                if (leftover == 0)
                {
                    return null;
                }

                throw new RpcException(new Status(
                    StatusCode.Internal, $"the stream ended in the middle of a message ({leftover} bytes left over)"));
            }

            // Examined counts for HTTP/2 flow control in Kestrel, so a message larger than the window still arrives.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}

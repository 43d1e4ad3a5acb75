using System.Buffers.Binary;
using System.Net.Sockets;
using CapCluster.Protocol.DataLanes;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// The socket under a lane, used only with blocking calls (see <see cref="LaneConnection"/>): under TLS (a
/// stream lane throughout; a data lane for its handshake and key exchange), then under a data lane's own
/// records (<see cref="LaneRecordReader"/>).
/// How reads are served is the stream's <see cref="Reads"/> mode. Writes go straight to the socket. Reading
/// and writing may happen at the same time (one reader, one writer).
/// </summary>
/// <remarks>
/// In <see cref="LaneReads.TlsRecords"/>, no read returns bytes of two TLS records: the 5-byte
/// record header (type, version, 2-byte length) is parsed here and each read ends at the record's end.
/// SslStream would otherwise read ahead into its own buffer whatever the socket had, and the lane's first
/// records, sent by the other end right after its key, would vanish into a stream that is never read again.
/// With bounded reads SslStream consumes exactly the records it processes (the handshake, the server's
/// NewSessionTickets, the key record), and the bytes after the key record stay in this buffer.
/// </remarks>
internal sealed class LaneSocketStream(Socket socket) : Stream
{
    private const int ReceiveBufferSize = 256 * 1024;
    private const int TlsHeaderSize = 5;

    private readonly byte[] buffer = new byte[ReceiveBufferSize];
    private LaneSender? sender;
    private int position;
    private int filled;
    private int tlsRecordLeft;

    /// <summary>How reads are served (see <see cref="LaneReads"/>). Set only between reads.</summary>
    public LaneReads Reads { get; set; }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] destination, int offset, int count) => Read(destination.AsSpan(offset, count));

    public override int Read(Span<byte> destination)
    {
        if (Reads != LaneReads.TlsRecords || destination.IsEmpty)
        {
            return ReadBuffered(destination);
        }

        if (tlsRecordLeft == 0)
        {
            // At a record boundary: the header tells how far the next read may go. Should the stream end
            // inside a header, what is left is handed out as it is, for the TLS layer to reject.
            tlsRecordLeft = Buffer(TlsHeaderSize)
                ? TlsHeaderSize + BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(position + 3, 2))
                : filled - position;
            if (tlsRecordLeft == 0)
            {
                return 0;
            }
        }

        var count = ReadBuffered(destination[..Math.Min(destination.Length, tlsRecordLeft)]);
        tlsRecordLeft -= count;
        return count;
    }

    public override void Write(byte[] source, int offset, int count) => Write(source.AsSpan(offset, count));

    /// <summary>Whether the other end has closed the connection (see <see cref="Descriptors.PeerHasClosed"/>).</summary>
    public bool PeerHasClosed() => Descriptors.PeerHasClosed(socket);

    /// <summary>From now on, writes never block: see <see cref="LaneSender"/>. How errors name the connection: <paramref name="name"/>.</summary>
    public void NeverBlockWrites(string name) => sender = new LaneSender(socket, name);

    public override void Write(ReadOnlySpan<byte> source)
    {
        if (sender is not null)
        {
            sender.Write(source);
            return;
        }

        while (!source.IsEmpty)
        {
            source = source[socket.Send(source, SocketFlags.None)..];
        }
    }

    // Asynchronous use would register the socket with the runtime's epoll loop: this stream has none.
    public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("a lane's socket is used only with blocking calls");

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("a lane's socket is used only with blocking calls");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            sender?.Dispose();
            try
            {
                // Ends the connection even where another process holds the socket too (the controller keeps the
                // client's end of a lane it handed to an engine), and wakes a read blocked on it.
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Not connected, or closed already.
            }

            socket.Dispose();
        }

        base.Dispose(disposing);
    }

    private int ReadBuffered(Span<byte> destination)
    {
        if (position == filled)
        {
            if (Reads == LaneReads.Direct)
            {
                return socket.Receive(destination, SocketFlags.None);
            }

            filled = socket.Receive(buffer, SocketFlags.None);
            position = 0;
            if (filled == 0)
            {
                return 0;
            }
        }

        var count = Math.Min(destination.Length, filled - position);
        buffer.AsSpan(position, count).CopyTo(destination);
        position += count;
        return count;
    }

    /// <summary>Receives until at least <paramref name="count"/> bytes are buffered; false if the stream ends first.</summary>
    private bool Buffer(int count)
    {
        if (buffer.Length - position < count)
        {
            buffer.AsSpan(position, filled - position).CopyTo(buffer);
            filled -= position;
            position = 0;
        }

        while (filled - position < count)
        {
            var received = socket.Receive(buffer.AsSpan(filled), SocketFlags.None);
            if (received == 0)
            {
                return false;
            }

            filled += received;
        }

        return true;
    }
}

/// <summary>How a <see cref="LaneSocketStream"/> serves reads.</summary>
internal enum LaneReads
{
    /// <summary>
    /// From a large receive buffer, so small reads cost one system call per buffer instead of one each: TLS
    /// (a stream lane throughout) reads a record header, then its body.
    /// </summary>
    Buffered,

    /// <summary>Buffered, but no read returns bytes of two TLS records: a data lane's handshake and key exchange (see the remarks on <see cref="LaneSocketStream"/>).</summary>
    TlsRecords,

    /// <summary>
    /// What is still buffered, then straight from the socket into the caller's span, however short: a data lane's
    /// own records, read into their final arrays (a buffered read of a record's 4-byte header would first copy up
    /// to a buffer's worth of the data behind it).
    /// </summary>
    Direct,
}

using System.Net.Sockets;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// The socket under a lane's TLS stream, used only with blocking calls (see <see cref="LaneConnection"/>).
/// SslStream reads one TLS record (at most 16 KiB) at a time; served from a large receive buffer, those
/// reads cost one system call per buffer instead of one each. Writes go straight to the socket. Reading
/// and writing may happen at the same time (one reader, one writer).
/// </summary>
internal sealed class LaneSocketStream(Socket socket) : Stream
{
    private const int ReceiveBufferSize = 256 * 1024;

    private readonly byte[] buffer = new byte[ReceiveBufferSize];
    private LaneSender? sender;
    private int position;
    private int filled;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] destination, int offset, int count) => Read(destination.AsSpan(offset, count));

    public override int Read(Span<byte> destination)
    {
        if (position == filled)
        {
            if (destination.Length >= buffer.Length)
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

    public override void Write(byte[] source, int offset, int count) => Write(source.AsSpan(offset, count));

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
            socket.Dispose();
        }

        base.Dispose(disposing);
    }
}

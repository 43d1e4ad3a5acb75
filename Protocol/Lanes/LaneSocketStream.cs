using System.Net.Sockets;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// The socket under a lane's TLS stream. SslStream reads one TLS record (at most 16 KiB) at a time;
/// served from a large receive buffer, those reads cost one system call per buffer instead of one
/// each. Writes go straight to the socket, so encrypting the next record overlaps sending this one.
/// Reading and writing may happen at the same time (one reader, one writer).
/// </summary>
internal sealed class LaneSocketStream(Socket socket) : Stream
{
    private const int ReceiveBufferSize = 256 * 1024;

    private readonly byte[] buffer = new byte[ReceiveBufferSize];
    private int position;
    private int filled;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (position == filled)
        {
            if (destination.Length >= buffer.Length)
            {
                return await socket.ReceiveAsync(destination, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }

            filled = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            position = 0;
            if (filled == 0)
            {
                return 0;
            }
        }

        var count = Math.Min(destination.Length, filled - position);
        buffer.AsSpan(position, count).CopyTo(destination.Span);
        position += count;
        return count;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        while (!source.IsEmpty)
        {
            var sent = await socket.SendAsync(source, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            source = source[sent..];
        }
    }

    public override Task<int> ReadAsync(byte[] destination, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(destination.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] source, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(source.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] destination, int offset, int count) => ReadAsync(destination, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override void Write(byte[] source, int offset, int count) => WriteAsync(source, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            socket.Dispose();
        }

        base.Dispose(disposing);
    }
}

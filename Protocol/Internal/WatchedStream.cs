using System.Security.Authentication;

namespace CapCluster.Protocol.Internal;

/// <summary>
/// A TLS stream that remembers whether the server ever sent a byte. On .NET/Linux a server that
/// refuses our client certificate under TLS 1.3 completes the handshake and then closes the
/// connection without an alert: a connection that ends before its first byte is that refusal.
/// </summary>
internal sealed class WatchedStream(Stream inner, string name) : Stream
{
    private bool _received;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read;
        try
        {
            read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!_received && ex is IOException or AuthenticationException)
        {
            throw Refused(ex);
        }

        if (read == 0 && !_received && buffer.Length > 0)
        {
            throw Refused(null);
        }

        _received = true;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!_received && ex is IOException or AuthenticationException)
        {
            throw Refused(ex);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override ValueTask DisposeAsync() => inner.DisposeAsync();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private ConnectFailureException Refused(Exception? inner) =>
        new(new Status(StatusCode.Unavailable, $"{name}: refused by the controller (certificate not accepted)"), inner);
}

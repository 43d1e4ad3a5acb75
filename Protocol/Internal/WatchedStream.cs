using System.Security.Authentication;

namespace CapCluster.Protocol.Internal;

/// <summary>
/// A TLS stream that notices a refused client certificate. On .NET/Linux a server that refuses our
/// certificate under TLS 1.3 lets our handshake complete and then closes the connection (with or
/// without an alert, possibly after its own SETTINGS frame sent as 0.5-RTT data). A server that
/// accepted us reads our connection preface and acknowledges our SETTINGS; one that refused us never
/// can. So a connection that fails before that acknowledgement is reported as the refusal.
/// </summary>
internal sealed class WatchedStream(Stream inner, string name, ChannelTarget target) : Stream
{
    private const int FrameHeaderSize = 9;
    private const byte SettingsFrame = 0x4;
    private const byte AckFlag = 0x1;

    private readonly byte[] _frameHeader = new byte[FrameHeaderSize];
    private int _frameHeaderFill;
    private long _skip;
    private volatile bool _accepted;

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
        catch (Exception ex) when (!_accepted && IsConnectionFailure(ex))
        {
            throw Refused(ex);
        }

        if (!_accepted)
        {
            if (read == 0 && buffer.Length > 0)
            {
                throw Refused(null);
            }

            Track(buffer.Span[..read]);
        }

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
        catch (Exception ex) when (!_accepted && IsConnectionFailure(ex))
        {
            throw Refused(ex);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!_accepted && IsConnectionFailure(ex))
        {
            throw Refused(ex);
        }
    }

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

    private static bool IsConnectionFailure(Exception ex) =>
        ex is IOException or AuthenticationException or ObjectDisposedException;

    /// <summary>Walks HTTP/2 frame headers until the server acknowledges our SETTINGS; then costs nothing.</summary>
    private void Track(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty && !_accepted)
        {
            if (_skip > 0)
            {
                var skipped = (int)Math.Min(_skip, data.Length);
                _skip -= skipped;
                data = data[skipped..];
                continue;
            }

            var take = Math.Min(FrameHeaderSize - _frameHeaderFill, data.Length);
            data[..take].CopyTo(_frameHeader.AsSpan(_frameHeaderFill));
            _frameHeaderFill += take;
            data = data[take..];
            if (_frameHeaderFill == FrameHeaderSize)
            {
                _frameHeaderFill = 0;
                _skip = (_frameHeader[0] << 16) | (_frameHeader[1] << 8) | _frameHeader[2];
                if (_frameHeader[3] == SettingsFrame && (_frameHeader[4] & AckFlag) != 0)
                {
                    _accepted = true;
                    target.Saw(null);
                }
            }
        }
    }

    private ConnectFailureException Refused(Exception? innerException)
    {
        var refused = new ConnectFailureException(new Status(StatusCode.Unavailable, $"{name}: refused by the controller (certificate not accepted)"), innerException);
        target.Saw(refused);
        return refused;
    }
}

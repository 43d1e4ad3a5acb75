using System.Buffers;
using System.Net;
using System.Net.Http.Headers;

namespace CapCluster.Protocol.Internal;

/// <summary>A request body of exactly one framed message, written as one buffer.</summary>
internal sealed class SingleMessageContent : HttpContent
{
    private static readonly MediaTypeHeaderValue GrpcMediaType = new(GrpcProtocol.ContentType);
    private byte[]? _buffer;
    private readonly int _length;

    public SingleMessageContent(byte[] rentedBuffer, int length)
    {
        _buffer = rentedBuffer;
        _length = length;
        Headers.ContentType = GrpcMediaType;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = Interlocked.Exchange(ref _buffer, null) ?? throw new InvalidOperationException("The request was already sent.");
        try
        {
            await stream.WriteAsync(buffer.AsMemory(0, _length), cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}

/// <summary>
/// A push-style request body for streaming calls: the handler gets the stream as soon as it starts
/// sending, the call's writer writes into it, and the body ends when the writer completes.
/// </summary>
internal sealed class PushStreamContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PushStreamContent() => Headers.ContentType = new MediaTypeHeaderValue(GrpcProtocol.ContentType);

    public Task<Stream> StreamTask => _stream.Task;

    public void Complete() => _complete.TrySetResult();

    /// <summary>Ends the body with an error, so the handler resets the stream instead of half-closing it.</summary>
    public void Abort() => _complete.TrySetCanceled();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        // SocketsHttpHandler holds the HEADERS frame back until the body flushes: send it now, so a
        // server that answers before the first request message (e.g. a refusal) is not kept waiting.
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        _stream.TrySetResult(stream);
        await _complete.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}

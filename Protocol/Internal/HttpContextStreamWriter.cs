using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace CapCluster.Protocol.Internal;

/// <summary>Writes response messages to the HTTP/2 response body, one flush per message.</summary>
internal sealed class HttpContextStreamWriter<T>(HttpContext http, ServerCallContext context, int maxSendSize) : IServerStreamWriter<T>
    where T : class, IMessage<T>
{
    private int _writing;
    private bool _completed;

    public async Task WriteAsync(T message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_completed)
        {
            throw new InvalidOperationException("The call has ended: the response stream can no longer be written.");
        }

        if (Interlocked.Exchange(ref _writing, 1) != 0)
        {
            throw new InvalidOperationException("A previous write is still in progress: await each WriteAsync before the next.");
        }

        try
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            var size = MessageFraming.CheckSendSize(message, maxSendSize);
            var writer = http.Response.BodyWriter;
            context.ResponseStarted = true;
            MessageFraming.Write(writer, message, size);
            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);

            // Kestrel discards writes to a reset stream without failing them.
            context.CancellationToken.ThrowIfCancellationRequested();
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }
    }

    public void Complete() => _completed = true;
}

using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace CapCluster.Protocol.Internal;

/// <summary>Reads request messages from the HTTP/2 request body.</summary>
internal sealed class HttpContextStreamReader<T>(HttpContext http, MessageParser<T> parser, ServerCallContext context, int maxReceiveSize)
    : IAsyncStreamReader<T>
    where T : class, IMessage<T>
{
    private T? _current;
    private bool _ended;

    public T Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true yet.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (_ended)
        {
            return false;
        }

        var callToken = context.CancellationToken;
        using var linked = cancellationToken.CanBeCanceled && cancellationToken != callToken
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, callToken)
            : null;
        var token = linked?.Token ?? callToken;
        T? message;
        try
        {
            message = await MessageFraming.ReadAsync(http.Request.BodyReader, parser, maxReceiveSize, compressionAllowed: false, token)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException and not OperationCanceledException)
        {
            // Kestrel reports a reset stream as an IOException, before it signals RequestAborted.
            if (!callToken.IsCancellationRequested)
            {
                context.MarkClientGone();
            }

            throw new OperationCanceledException("The call was cancelled or the client went away.", ex, callToken);
        }

        if (message is null)
        {
            _ended = true;
            return false;
        }

        _current = message;
        return true;
    }
}

using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace CapCluster.Protocol.Internal;

/// <summary>One client call: the HTTP/2 request, its request stream (if pushed) and its response stream.</summary>
internal sealed class ClientCall<TReq, TResp> : IAsyncStreamReader<TResp>, IClientStreamWriter<TReq>, IDisposable
    where TReq : class, IMessage<TReq>, new()
    where TResp : class, IMessage<TResp>, new()
{
    private readonly GrpcChannel _channel;
    private readonly Method<TReq, TResp> _method;
    private readonly CancellationToken _userToken;
    private readonly CancellationTokenSource _cts;
    private readonly CancellationTokenSource? _deadlineCts;
    private readonly HttpRequestMessage _request;
    private readonly Task<HttpResponseMessage>? _sendTask;
    private readonly PushStreamContent? _push;
    private HttpResponseMessage? _response;
    private PipeReader? _reader;
    private readonly TaskCompletionSource<Status> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Status? _finalStatus;
    private int _reading;
    private TResp? _current;
    private bool _requestCompleted;
    private int _writing;
    private bool _disposed;

    public ClientCall(GrpcChannel channel, Method<TReq, TResp> method, CallOptions options, TReq? singleRequest)
    {
        _channel = channel;
        _method = method;
        _userToken = options.CancellationToken;
        var deadline = options.Deadline;
        TimeSpan? timeout = null;
        if (deadline is { } d && d != DateTime.MaxValue)
        {
            var utc = d.Kind == DateTimeKind.Local ? d.ToUniversalTime() : d;
            timeout = utc - DateTime.UtcNow;
            if (timeout <= TimeSpan.Zero)
            {
                _final = new Status(StatusCode.DeadlineExceeded, "the deadline had passed before the call started");
            }
            else if (timeout < TimeSpan.FromDays(30))
            {
                _deadlineCts = new CancellationTokenSource(timeout.Value);
            }
        }

        _cts = _deadlineCts is null
            ? CancellationTokenSource.CreateLinkedTokenSource(_userToken)
            : CancellationTokenSource.CreateLinkedTokenSource(_userToken, _deadlineCts.Token);

        HttpContent content;
        if (singleRequest is not null)
        {
            var size = MessageFraming.CheckSendSize(singleRequest, channel.Options.MaxSendMessageSize);
            var buffer = MessageFraming.Serialize(singleRequest, size, out var length);
            content = new SingleMessageContent(buffer, length);
        }
        else
        {
            _push = new PushStreamContent();
            content = _push;
        }

        _request = new HttpRequestMessage(HttpMethod.Post, channel.MethodUri(method.FullName))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        var headers = _request.Headers;
        headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        headers.TryAddWithoutValidation("user-agent", "capcluster-grpc/" + typeof(GrpcChannel).Assembly.GetName().Version?.ToString(3));
        headers.TryAddWithoutValidation(GrpcProtocol.AcceptEncodingHeader, "identity");
        if (timeout is { } t && _final is null)
        {
            headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcProtocol.FormatTimeout(t));
        }

        foreach (var (name, value) in channel.Options.DefaultHeaders)
        {
            headers.TryAddWithoutValidation(name, value);
        }

        if (options.Headers is { } extra)
        {
            foreach (var (name, value) in extra)
            {
                headers.TryAddWithoutValidation(name, value);
            }
        }

        if (_final is null)
        {
            _sendTask = channel.Invoker.SendAsync(_request, _cts.Token);
        }
    }

    /// <summary>The local failure that ended the call, if one did: later reads and writes carry it as their cause.</summary>
    private Exception? _failure;

    /// <summary>The final status once known; setting it the first time completes <see cref="_finished"/>.</summary>
    private Status? _final
    {
        get => _finalStatus;
        set
        {
            if (_finalStatus is null && value is { } status)
            {
                _finalStatus = status;
                _finished.TrySetResult(status);
            }
        }
    }

    public TResp Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true yet.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_final is { } done)
        {
            return done.StatusCode == StatusCode.OK ? false : throw new RpcException(done, _failure);
        }

        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cts.Token) : null;
        var token = linked?.Token ?? _cts.Token;
        TResp? message;
        Interlocked.Increment(ref _reading);
        try
        {
            if (_reader is null)
            {
                await ReceiveHeadersAsync(token).ConfigureAwait(false);
                if (_final is { } trailersOnly)
                {
                    return trailersOnly.StatusCode == StatusCode.OK ? false : throw new RpcException(trailersOnly);
                }
            }

            message = await MessageFraming.ReadAsync(_reader!, _method.ResponseParser, _channel.Options.MaxReceiveMessageSize, false, token)
                .ConfigureAwait(false);
        }
        catch (RpcException ex) when (_final is null)
        {
            // A protocol error seen here (oversized or bad message): end the call at the server too.
            _final = ex.Status;
            await _cts.CancelAsync().ConfigureAwait(false);
            throw;
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            if (cancellationToken.IsCancellationRequested && !_cts.IsCancellationRequested)
            {
                await _cts.CancelAsync().ConfigureAwait(false);
            }

            throw Fail(ex);
        }
        finally
        {
            Interlocked.Decrement(ref _reading);
        }

        if (message is not null)
        {
            _current = message;
            return true;
        }

        var status = ReadStatus(_response!.TrailingHeaders)
            ?? new Status(StatusCode.Internal, "the server ended the call without a grpc-status");
        _final = status;
        return status.StatusCode == StatusCode.OK ? false : throw new RpcException(status);
    }

    public async Task<TResp> ReadSingleResponseAsync()
    {
        if (!await MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.Internal, $"the server ended {_method.FullName} without a response message"));
        }

        var response = Current;
        if (await MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.Internal, $"the server sent more than one response message for {_method.FullName}"));
        }

        return response;
    }

    public async Task WriteAsync(TReq message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_push is null || _requestCompleted)
        {
            throw new InvalidOperationException("The request stream is complete: no more messages can be written.");
        }

        if (_final is { StatusCode: not StatusCode.OK } failed)
        {
            throw new RpcException(failed, _failure);
        }

        if (Interlocked.Exchange(ref _writing, 1) != 0)
        {
            throw new InvalidOperationException("A previous write is still in progress: await each WriteAsync before the next.");
        }

        byte[]? buffer = null;
        try
        {
            var size = MessageFraming.CheckSendSize(message, _channel.Options.MaxSendMessageSize);
            using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cts.Token) : null;
            var token = linked?.Token ?? _cts.Token;
            try
            {
                var stream = await GetRequestStreamAsync(token).ConfigureAwait(false);
                buffer = MessageFraming.Serialize(message, size, out var length);
                await WriteAndFlushAsync(stream, buffer.AsMemory(0, length), token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not RpcException)
            {
                if (cancellationToken.IsCancellationRequested && !_cts.IsCancellationRequested)
                {
                    await _cts.CancelAsync().ConfigureAwait(false);
                }

                throw await WriteFailureAsync(ex).ConfigureAwait(false);
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            Volatile.Write(ref _writing, 0);
        }
    }

    /// <summary>
    /// Without a flush the message may sit in the handler's buffer and the server never sees it. The handler's
    /// connection writer takes queued operations in order, so a flush queued right behind the write sends the
    /// message in the same pass (awaiting the write first would take two passes, each a thread hop there and
    /// back, on every small message's way). A write that waited for flow-control credit lands behind that
    /// flush: the last flush covers it. (The stream is always SocketsHttpHandler's HTTP/2 request stream, whose
    /// flush is a connection-level operation that may be queued while a write is pending.)
    /// </summary>
    private static async Task WriteAndFlushAsync(Stream stream, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        var write = stream.WriteAsync(data, token);
        var flush = stream.FlushAsync(token);
        try
        {
            await write.ConfigureAwait(false);
        }
        catch
        {
            _ = flush.ContinueWith(static f => f.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }

        await flush.ConfigureAwait(false);
        await stream.FlushAsync(token).ConfigureAwait(false);
    }

    public Task CompleteAsync()
    {
        _requestCompleted = true;
        _push?.Complete();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Cancelling an unfinished call resets its stream (RST_STREAM CANCEL), which the server sees.
        _cts.Cancel();

        // Not Complete(): an END_STREAM would tell a duplex handler "client done" before the reset arrives.
        _push?.Abort();
        _reader?.Complete();
        _response?.Dispose();
        _request.Dispose();
        _cts.Dispose();
        _deadlineCts?.Dispose();
    }

    private async Task ReceiveHeadersAsync(CancellationToken token)
    {
        var response = await _sendTask!.WaitAsync(token).ConfigureAwait(false);
        _response = response;
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var code = (int)response.StatusCode;
            _final = new Status(GrpcProtocol.FromHttpStatus(code), $"the server answered HTTP {code} {response.ReasonPhrase} instead of a gRPC response");
            return;
        }

        if (ReadStatus(response.Headers) is { } trailersOnly)
        {
            _final = trailersOnly;
            return;
        }

        if (!GrpcProtocol.IsGrpcContentType(response.Content.Headers.ContentType?.MediaType))
        {
            _final = new Status(StatusCode.Unknown, $"the server answered with content-type '{response.Content.Headers.ContentType}', not application/grpc");
            return;
        }

        var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024));
    }

    private async Task<Exception> WriteFailureAsync(Exception ex)
    {
        if (_final is { } known)
        {
            return new RpcException(known, ex);
        }

        if (_cts.IsCancellationRequested || _sendTask is null)
        {
            return Fail(ex);
        }

        // A write fails when the server has ended the call (e.g. refused it, or its handler failed):
        // its status is the useful answer. Trailers-Only statuses are in the headers; otherwise a
        // reader in progress (ResponseAsync, or the user's) is about to learn it from the trailers.
        if (_sendTask.IsCompletedSuccessfully && _sendTask.Result.StatusCode == HttpStatusCode.OK
            && ReadStatus(_sendTask.Result.Headers) is { } trailersOnly)
        {
            return new RpcException(trailersOnly, ex);
        }

        if (Volatile.Read(ref _reading) > 0)
        {
            try
            {
                return new RpcException(await _finished.Task.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false), ex);
            }
            catch (TimeoutException)
            {
                // Fall through to the transport error.
            }
        }

        return Fail(ex);
    }

    private async Task<Stream> GetRequestStreamAsync(CancellationToken token)
    {
        var streamTask = _push!.StreamTask;
        if (!streamTask.IsCompleted)
        {
            // If the request fails before its body starts (e.g. cannot connect), the send task says why.
            var first = await Task.WhenAny(streamTask, _sendTask!).WaitAsync(token).ConfigureAwait(false);
            if (first != streamTask)
            {
                var response = await _sendTask!.ConfigureAwait(false);
                if (!streamTask.IsCompleted)
                {
                    throw new RpcException(response.StatusCode == HttpStatusCode.OK && ReadStatus(response.Headers) is { } status
                        ? status
                        : new Status(StatusCode.Internal, "the server answered before the request stream started"));
                }
            }
        }

        return await streamTask.ConfigureAwait(false);
    }

    private RpcException Fail(Exception ex)
    {
        var status = MapFailure(ex);
        _failure ??= ex;
        _final = status;
        GrpcLog.ClientCallFailed(_channel.Logger, _method.FullName, status.StatusCode, ex);
        return new RpcException(status, ex);
    }

    private Status MapFailure(Exception ex)
    {
        if (_deadlineCts?.IsCancellationRequested == true)
        {
            return new Status(StatusCode.DeadlineExceeded, $"{_method.FullName} did not complete before its deadline");
        }

        if (_userToken.IsCancellationRequested || (_cts.IsCancellationRequested && ex is OperationCanceledException))
        {
            return new Status(StatusCode.Cancelled, $"{_method.FullName} was cancelled");
        }

        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is ConnectFailureException connect)
            {
                return connect.Status;
            }

            if (e is HttpProtocolException protocol)
            {
                return protocol.ErrorCode switch
                {
                    0x8 => new Status(StatusCode.Cancelled, $"the server cancelled {_method.FullName}"),
                    0x7 => new Status(StatusCode.Unavailable, $"the server refused the stream for {_method.FullName}; retry"),
                    0xb => new Status(StatusCode.ResourceExhausted, $"the server asked to slow down (ENHANCE_YOUR_CALM) on {_method.FullName}"),
                    _ => new Status(StatusCode.Unavailable, $"the connection to {_channel.Target} failed during {_method.FullName}: HTTP/2 error code {protocol.ErrorCode}"),
                };
            }
        }

        // A cancellation we did not ask for: the handler aborted the request because the connection died.
        if (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            var innermost = ex;
            while (innermost.InnerException is not null)
            {
                innermost = innermost.InnerException;
            }

            return new Status(StatusCode.Unavailable, $"the connection to {_channel.Target} was lost during {_method.FullName} ({innermost.Message})");
        }

        return new Status(StatusCode.Unknown, $"{_method.FullName} failed on the client: {ex.GetType().Name}: {ex.Message}");
    }

    private static Status? ReadStatus(HttpHeaders headers)
    {
        if (!headers.TryGetValues(GrpcProtocol.StatusHeader, out var values))
        {
            return null;
        }

        var text = values.FirstOrDefault();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            return new Status(StatusCode.Unknown, $"the server sent an invalid grpc-status '{text}'");
        }

        var message = headers.TryGetValues(GrpcProtocol.MessageHeader, out var messages) ? messages.FirstOrDefault() : null;
        return new Status((StatusCode)code, GrpcProtocol.DecodeMessage(message));
    }
}

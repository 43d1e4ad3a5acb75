using Grpc.Core;

namespace CapCluster.Protocol.Internal;

/// <summary>
/// The <see cref="GrpcChannel"/>'s calls, for its own methods and for protoc-generated clients alike: each call gets the
/// channel's default headers, and a failure of the channel itself (a refused certificate, nothing listening, not the
/// server) ends it with an error that says so (<see cref="ChannelErrors"/>), on the response and on each stream.
/// </summary>
internal sealed class ChannelInvoker : CallInvoker
{
    private readonly CallInvoker _inner;
    private readonly Metadata? _defaultHeaders;
    private readonly ChannelTarget _target;

    public ChannelInvoker(CallInvoker inner, IReadOnlyList<KeyValuePair<string, string>> defaultHeaders, ChannelTarget target)
    {
        _inner = inner;
        _target = target;
        if (defaultHeaders.Count > 0)
        {
            _defaultHeaders = [];
            foreach (var (name, value) in defaultHeaders)
            {
                _defaultHeaders.Add(name, value);
            }
        }
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        using var call = AsyncUnaryCall(method, host, options, request);
        return call.ResponseAsync.GetAwaiter().GetResult();
    }

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        var call = _inner.AsyncUnaryCall(method, host, WithDefaults(options), request);
        return new AsyncUnaryCall<TResponse>(
            Translated(call.ResponseAsync, method.FullName, options.CancellationToken), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        var call = _inner.AsyncServerStreamingCall(method, host, WithDefaults(options), request);
        return new AsyncServerStreamingCall<TResponse>(
            new TranslatingReader<TResponse>(call.ResponseStream, method.FullName, _target, options.CancellationToken),
            call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options)
    {
        ArgumentNullException.ThrowIfNull(method);
        var call = _inner.AsyncClientStreamingCall(method, host, WithDefaults(options));
        return new AsyncClientStreamingCall<TRequest, TResponse>(
            new TranslatingWriter<TRequest>(call.RequestStream, method.FullName, _target, call.GetStatus, options.CancellationToken),
            Translated(call.ResponseAsync, method.FullName, options.CancellationToken),
            call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options)
    {
        ArgumentNullException.ThrowIfNull(method);
        var call = _inner.AsyncDuplexStreamingCall(method, host, WithDefaults(options));
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(
            new TranslatingWriter<TRequest>(call.RequestStream, method.FullName, _target, call.GetStatus, options.CancellationToken),
            new TranslatingReader<TResponse>(call.ResponseStream, method.FullName, _target, options.CancellationToken),
            call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    private async Task<T> Translated<T>(Task<T> response, string method, CancellationToken asked)
    {
        try
        {
            return await response.ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw ChannelErrors.Translate(e, method, _target, asked);
        }
    }

    private CallOptions WithDefaults(CallOptions options)
    {
        if (_defaultHeaders is null)
        {
            return options;
        }

        if (options.Headers is not { Count: > 0 } extra)
        {
            return options.WithHeaders(_defaultHeaders);
        }

        var headers = new Metadata();
        foreach (var entry in _defaultHeaders)
        {
            headers.Add(entry);
        }

        foreach (var entry in extra)
        {
            headers.Add(entry);
        }

        return options.WithHeaders(headers);
    }
}

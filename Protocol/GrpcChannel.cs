using System.Net;
using CapCluster.Protocol.Internal;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CapCluster.Protocol;

/// <summary>
/// A client connection pool to one gRPC server over HTTP/2 and TLS (1.3 or 1.2), with mutual TLS when
/// <see cref="GrpcChannelOptions.ClientCertificate"/> is set: grpc-dotnet's channel over a handler whose connections
/// this class makes (endpoint order, TLS, the server's certificate check), with failures turned into statuses that
/// say what happened. Thread-safe; make one per server and share it.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private readonly string _baseUri;
    private readonly Grpc.Net.Client.GrpcChannel _channel;

    /// <summary>Creates a channel; nothing connects until the first call.</summary>
    /// <param name="endpoints">
    /// Where the server may be. Each new connection tries them in order and uses the first that answers;
    /// the TLS target host (SNI) is that endpoint's host.
    /// </param>
    /// <param name="options">Channel options.</param>
    public GrpcChannel(IReadOnlyList<DnsEndPoint> endpoints, GrpcChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.ValidateServerCertificate);
        if (endpoints.Count == 0)
        {
            throw new ArgumentException("At least one endpoint is needed.", nameof(endpoints));
        }

        Options = options;
        Logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("CapCluster.Protocol.GrpcChannel");
        Target = string.Join(",", endpoints.Select(ChannelConnector.Format));
        var target = new ChannelTarget(Target);
        var connector = new ChannelConnector([.. endpoints], options, target, Logger);

        // TLS is done by the connector, so the handler speaks HTTP/2 with prior knowledge on "http" URIs.
        _baseUri = "http://" + ChannelConnector.Format(endpoints[0]);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = connector.ConnectAsync,
            ConnectTimeout = Timeout.InfiniteTimeSpan,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            InitialHttp2StreamWindowSize = options.InitialStreamWindowSize,
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
        };
        _channel = Grpc.Net.Client.GrpcChannel.ForAddress(_baseUri, new Grpc.Net.Client.GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = options.MaxReceiveMessageSize,
            MaxSendMessageSize = options.MaxSendMessageSize,
            LoggerFactory = options.LoggerFactory,
        });
        Invoker = new ChannelInvoker(_channel.CreateCallInvoker(), options.DefaultHeaders, target);
    }

    /// <summary>The endpoints as <c>host:port</c>, comma-separated, for messages.</summary>
    public string Target { get; }

    internal GrpcChannelOptions Options { get; }

    internal ILogger Logger { get; }

    /// <summary>
    /// Calls through this channel for protoc-generated clients (<c>new TaskFarm.TaskFarmClient(channel.Invoker)</c>):
    /// with the default headers, and with failures of the channel itself (refused, unreachable, not the server) made into
    /// errors that say so.
    /// </summary>
    public CallInvoker Invoker { get; }

    /// <summary>Makes a unary call.</summary>
    /// <exception cref="RpcException">The call ended with a status other than OK.</exception>
    public async Task<TResp> UnaryAsync<TReq, TResp>(Method<TReq, TResp> method, TReq request, CallOptions options = default)
        where TReq : class
        where TResp : class
    {
        using var call = Invoker.AsyncUnaryCall(method, null, options, request);
        return await call.ResponseAsync.ConfigureAwait(false);
    }

    /// <summary>Starts a server-streaming call.</summary>
    public AsyncServerStreamingCall<TResp> ServerStreaming<TReq, TResp>(Method<TReq, TResp> method, TReq request, CallOptions options = default)
        where TReq : class
        where TResp : class =>
        Invoker.AsyncServerStreamingCall(method, null, options, request);

    /// <summary>Starts a client-streaming call.</summary>
    public AsyncClientStreamingCall<TReq, TResp> ClientStreaming<TReq, TResp>(Method<TReq, TResp> method, CallOptions options = default)
        where TReq : class
        where TResp : class =>
        Invoker.AsyncClientStreamingCall(method, null, options);

    /// <summary>Starts a duplex (bidirectional) streaming call.</summary>
    public AsyncDuplexStreamingCall<TReq, TResp> DuplexStreaming<TReq, TResp>(Method<TReq, TResp> method, CallOptions options = default)
        where TReq : class
        where TResp : class =>
        Invoker.AsyncDuplexStreamingCall(method, null, options);

    /// <summary>
    /// Opens a duplex call on a stream lane the server granted (see lane.proto), instead of on HTTP/2: a connection
    /// of its own to <paramref name="dataPort"/>, with this channel's client certificate, server check and message limits.
    /// Disposing the call, or cancelling <paramref name="cancellationToken"/> later, closes the connection.
    /// </summary>
    /// <exception cref="Lanes.LaneException">The data port cannot be reached, refused the lane, or is not the server's.</exception>
    public Task<AsyncDuplexStreamingCall<TReq, TResp>> DuplexStreamingOnLaneAsync<TReq, TResp>(
        Method<TReq, TResp> method, IReadOnlyList<DnsEndPoint> dataPort, byte[] laneId, string? localSocket = null, CancellationToken cancellationToken = default)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(dataPort);
        return StreamLanes.StreamLaneEnds.ConnectAsync(Options, method, dataPort, laneId, localSocket, cancellationToken);
    }

    /// <summary>Closes every connection; calls still running fail.</summary>
    public void Dispose() => _channel.Dispose();
}

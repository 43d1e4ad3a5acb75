using System.Net;
using System.Security.Authentication;
using CapCluster.Protocol.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Grpc.AspNetCore.Server.Model;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Grpc.Reflection;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CapCluster.Protocol;

/// <summary>
/// A gRPC server over Kestrel: HTTP/2 over TLS 1.3 on every endpoint, client certificates
/// requested but not required (the <see cref="ICallAuthorizer"/> checks them and refuses with a
/// gRPC status, instead of the handshake closing the connection).
/// </summary>
public sealed class GrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping;
    private readonly ILogger _logger;
    private readonly HealthServiceImpl _health;
    private readonly string[] _healthServices;
    private int _stopped;

    private GrpcServer(WebApplication app, CancellationTokenSource stopping, ILogger logger, IReadOnlyDictionary<string, IPEndPoint> bound, HealthServiceImpl health, string[] healthServices)
    {
        _health = health;
        _healthServices = healthServices;
        _app = app;
        _stopping = stopping;
        _logger = logger;
        BoundEndpoints = bound;
    }

    /// <summary>The endpoints actually bound, by <see cref="GrpcEndpoint.Name"/>, with the real port when 0 was asked.</summary>
    public IReadOnlyDictionary<string, IPEndPoint> BoundEndpoints { get; }

    /// <summary>Starts listening on every endpoint.</summary>
    /// <param name="endpoints">Where to listen; names must be unique.</param>
    /// <param name="router">The mapped methods.</param>
    /// <param name="authorizer">Called before every call; null allows every call.</param>
    /// <param name="options">Server options; <see cref="GrpcServerOptions.ServerCertificate"/> is required.</param>
    /// <param name="loggerFactory">Where the server and Kestrel log; null logs nothing.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="GrpcBindException">An endpoint could not be bound.</exception>
    public static async Task<GrpcServer> StartAsync(
        IReadOnlyList<GrpcEndpoint> endpoints,
        GrpcRouter router,
        ICallAuthorizer? authorizer,
        GrpcServerOptions options,
        ILoggerFactory? loggerFactory,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (endpoints.Count == 0)
        {
            throw new ArgumentException("At least one endpoint is needed.", nameof(endpoints));
        }

        if (endpoints.Select(e => e.Name).Distinct(StringComparer.Ordinal).Count() != endpoints.Count)
        {
            throw new ArgumentException("Endpoint names must be unique.", nameof(endpoints));
        }

        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger("CapCluster.Protocol.GrpcServer");
        var stopping = new CancellationTokenSource();
        var runtime = new ServerRuntime(options, authorizer, logger, stopping.Token);
        var listenOptions = new List<(GrpcEndpoint Endpoint, ListenOptions Listen)>();

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddLogging();
        builder.Services.AddSingleton<ILoggerFactory>(new HostLogFilter(loggerFactory));
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, PassiveHostLifetime>();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            ConfigureLimits(kestrel, options);
            foreach (var endpoint in endpoints)
            {
                kestrel.Listen(endpoint.Address, endpoint.Port, listen =>
                {
                    listenOptions.Add((endpoint, listen));
                    listen.Protocols = HttpProtocols.Http2;
                    listen.Use(runtime.Connections.Track(endpoint));
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = options.ServerCertificate,
                        SslProtocols = SslProtocols.Tls13,
                        HandshakeTimeout = options.Limits.HandshakeTimeout,
                        ClientCertificateMode = ClientCertificateMode.AllowCertificate,

                        // The authorizer does the real chain check, so a refusal is a clear gRPC status.
                        ClientCertificateValidation = static (_, _, _) => true,
                        CheckCertificateRevocation = false,
                    });
                    listen.Use(runtime.Connections.LimitCertificateLess(endpoint));
                });
            }
        });

        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxReceiveMessageSize;
            grpc.MaxSendMessageSize = options.MaxSendMessageSize;
            grpc.EnableDetailedErrors = false;
        });
        builder.Services.AddSingleton<RoutedService>();
        var health = new HealthServiceImpl();
        builder.Services.AddSingleton(health);
        builder.Services.AddSingleton(new ReflectionServiceImpl(router.Described));
        builder.Services.AddSingleton(new ReflectionV1ServiceImpl(router.Described));
        builder.Services.AddSingleton<IServiceMethodProvider<RoutedService>>(new RoutedMethodProvider(router, runtime));

        var app = builder.Build();
        var gate = new GrpcGate(runtime);
        app.Use(gate.InvokeAsync);
        app.UseRouting();
        app.MapGrpcService<RoutedService>();
        app.MapGrpcService<HealthServiceImpl>();
        app.MapGrpcService<ReflectionServiceImpl>();
        app.MapGrpcService<ReflectionV1ServiceImpl>();

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            stopping.Dispose();
            throw BindErrors.Create(endpoints, ex);
        }

        var bound = new Dictionary<string, IPEndPoint>(StringComparer.Ordinal);
        foreach (var (endpoint, listen) in listenOptions)
        {
            var actual = listen.IPEndPoint ?? new IPEndPoint(endpoint.Address, endpoint.Port);
            bound[endpoint.Name] = actual;
            GrpcLog.Listening(logger, endpoint.Name, actual.ToString());
        }

        string[] healthServices = [string.Empty, .. router.Described.Select(d => d.FullName)];
        foreach (var service in healthServices)
        {
            health.SetStatus(service, HealthCheckResponse.Types.ServingStatus.Serving);
        }

        return new GrpcServer(app, stopping, logger, bound, health, healthServices);
    }

    /// <summary>
    /// Stops listening, cancels every running call (their handlers see
    /// <see cref="CallContext.CancellationToken"/> cancelled and callers get UNAVAILABLE),
    /// and waits for the calls to end.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for calls to end.</param>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        GrpcLog.Stopping(_logger);
        foreach (var service in _healthServices)
        {
            _health.SetStatus(service, HealthCheckResponse.Types.ServingStatus.NotServing);
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the server (waiting at most 5 seconds for calls) and releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            try
            {
                await StopAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Calls that ignore cancellation must not keep the process from exiting.
            }
        }

        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static void ConfigureLimits(KestrelServerOptions kestrel, GrpcServerOptions options)
    {
        kestrel.AddServerHeader = false;

        // Our client speaks h2 with the "http" scheme over a TLS stream it set up itself.
        kestrel.AllowAlternateSchemes = true;
        var limits = kestrel.Limits;
        limits.MaxRequestBodySize = null;
        limits.MinRequestBodyDataRate = null;
        limits.MinResponseDataRate = null;

        // The default 64 KiB response buffer makes every large message wait on the socket many times over.
        limits.MaxResponseBufferSize = options.MaxResponseBufferSize;
        limits.MaxRequestBufferSize = options.MaxResponseBufferSize;
        limits.KeepAliveTimeout = options.KeepAliveTimeout;
        limits.Http2.InitialConnectionWindowSize = options.InitialConnectionWindowSize;
        limits.Http2.InitialStreamWindowSize = options.InitialStreamWindowSize;
        limits.Http2.MaxFrameSize = options.MaxFrameSize;
        limits.Http2.MaxStreamsPerConnection = options.MaxStreamsPerConnection;
        limits.Http2.KeepAlivePingDelay = options.KeepAlivePingDelay;
        limits.Http2.KeepAlivePingTimeout = options.KeepAlivePingTimeout;
    }
}

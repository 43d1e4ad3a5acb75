using System.Net;

namespace CapCluster.Protocol.Tests;

/// <summary>A real Kestrel on 127.0.0.1, port 0, with the test CA's server certificate.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly List<GrpcChannel> _channels = [];

    private TestServer(GrpcServer server) => Server = server;

    public GrpcServer Server { get; }

    public IPEndPoint EndPoint => Server.BoundEndpoints["test"];

    public static async Task<TestServer> StartAsync(
        GrpcRouter router, ICallAuthorizer? authorizer = null, Action<GrpcServerOptions>? configure = null, Microsoft.Extensions.Logging.ILoggerFactory? logging = null)
    {
        var options = new GrpcServerOptions { ServerCertificate = TestCertificates.Main.Server };
        configure?.Invoke(options);
        var server = await GrpcServer.StartAsync(
            [new GrpcEndpoint("test", IPAddress.Loopback, 0)], router, authorizer, options, logging ?? FileLoggerProvider.FromEnvironment(), CancellationToken.None).WaitAsync(Timeout);
        return new TestServer(server);
    }

    public GrpcChannel Channel(Action<GrpcChannelOptions>? configure = null)
    {
        var channel = CreateChannel(new DnsEndPoint("127.0.0.1", EndPoint.Port), configure);
        _channels.Add(channel);
        return channel;
    }

    public static GrpcChannel CreateChannel(DnsEndPoint endpoint, Action<GrpcChannelOptions>? configure = null)
    {
        var options = new GrpcChannelOptions
        {
            ClientCertificate = TestCertificates.Main.Client,
            ValidateServerCertificate = (certificate, _, _) => TestCertificates.Main.ChainsToCa(certificate),
        };
        options.LoggerFactory = FileLoggerProvider.FromEnvironment();
        configure?.Invoke(options);
        return new GrpcChannel([endpoint], options);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        await Server.DisposeAsync();
    }
}

/// <summary>An authorizer that runs a delegate (and another when a call it admitted ends refused by its handler).</summary>
internal sealed class DelegateAuthorizer(Func<CallContext, ValueTask> authorize, Action<CallContext, Status>? failed = null) : ICallAuthorizer
{
    public ValueTask AuthorizeAsync(CallContext context) => authorize(context);

    public void CallFailed(CallContext context, Status status) => failed?.Invoke(context, status);
}

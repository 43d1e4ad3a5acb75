using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Tests;

public sealed class ConnectionTests
{
    private static readonly TimeSpan Timeout = TestServer.Timeout;

    [Fact]
    public async Task Connect_NothingListening_UnavailableNamingHostAndPort()
    {
        var port = FreePort();
        using var channel = TestServer.CreateChannel(new DnsEndPoint("127.0.0.1", port));

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestService.Echo, TestService.Message(1)).WaitAsync(Timeout));

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Equal($"cannot reach 127.0.0.1:{port} (connection refused)", ex.Status.Detail);
    }

    [Fact]
    public async Task Connect_FirstEndpointRefuses_UsesTheNextOne()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        var options = new GrpcChannelOptions
        {
            ClientCertificate = TestCertificates.Main.Client,
            ValidateServerCertificate = (certificate, _, _) => TestCertificates.Main.ChainsToCa(certificate),
        };
        using var channel = new GrpcChannel([new DnsEndPoint("127.0.0.1", FreePort()), new DnsEndPoint("localhost", server.EndPoint.Port)], options);

        var reply = await channel.UnaryAsync(TestService.Echo, TestService.Message(1)).WaitAsync(Timeout);

        Assert.Equal(2, reply.EngineId);
    }

    [Fact]
    public async Task Connect_ServerCertificateFromAnotherCa_RefusedByClientValidationWithClearMessage()
    {
        var router = TestService.StandardRouter();
        var handlerRan = false;
        router.MapUnary(TestService.Ping, (request, _) =>
        {
            handlerRan = true;
            return Task.FromResult(request);
        });
        await using var server = await TestServer.StartAsync(router, configure: o => o.ServerCertificate = TestCertificates.Other.Server);
        var channel = server.Channel();

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestService.Ping, TestService.Message(1)).WaitAsync(Timeout));

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Equal(
            $"the server at 127.0.0.1:{server.EndPoint.Port} is not the controller named in the capability (its certificate does not match the pinned CA)",
            ex.Status.Detail);
        Assert.False(handlerRan);
    }

    [Fact]
    public async Task Bind_PortInUse_GrpcBindExceptionNamingThePort()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var options = new GrpcServerOptions { ServerCertificate = TestCertificates.Main.Server };

        var ex = await Assert.ThrowsAsync<GrpcBindException>(() => GrpcServer.StartAsync(
            [new GrpcEndpoint("engine", IPAddress.Loopback, port)], new GrpcRouter(), null, options, null, CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(port, ex.Port);
        Assert.Equal("engine", ex.EndpointName);
        Assert.Equal(
            $"cannot listen on 127.0.0.1:{port} for the engine port: the port is already in use (pick another --engine-port, or stop what holds it)",
            ex.Message);
    }

    [Fact]
    public async Task Bind_TwoEndpoints_BothBoundWithRealPorts()
    {
        var options = new GrpcServerOptions { ServerCertificate = TestCertificates.Main.Server };
        await using var server = await GrpcServer.StartAsync(
            [new GrpcEndpoint("client", IPAddress.Loopback, 0), new GrpcEndpoint("engine", IPAddress.Loopback, 0)],
            TestService.StandardRouter(), null, options, null, CancellationToken.None).WaitAsync(Timeout);

        Assert.NotEqual(0, server.BoundEndpoints["client"].Port);
        Assert.NotEqual(0, server.BoundEndpoints["engine"].Port);
        Assert.NotEqual(server.BoundEndpoints["client"].Port, server.BoundEndpoints["engine"].Port);
        using var channel = TestServer.CreateChannel(new DnsEndPoint("127.0.0.1", server.BoundEndpoints["engine"].Port));
        Assert.Equal(2, (await channel.UnaryAsync(TestService.Echo, TestService.Message(1)).WaitAsync(Timeout)).EngineId);
    }

    [Fact]
    public async Task AbortConnection_EndsRunningStreamOnTheClient()
    {
        var router = new GrpcRouter();
        router.MapDuplex(TestService.Chat, async (requests, writer, context) =>
        {
            while (await requests.MoveNext(context.CancellationToken))
            {
                if (requests.Current.EngineId == 99)
                {
                    context.AbortConnection();
                    return;
                }

                await writer.WriteAsync(requests.Current, context.CancellationToken);
            }
        });
        await using var server = await TestServer.StartAsync(router);
        var channel = server.Channel();
        using var other = channel.DuplexStreaming(TestService.Chat);
        await other.RequestStream.WriteAsync(TestService.Message(1)).WaitAsync(Timeout);
        Assert.True(await other.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));

        using var call = channel.DuplexStreaming(TestService.Chat);
        try
        {
            await call.RequestStream.WriteAsync(TestService.Message(99)).WaitAsync(Timeout);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
        {
            // The server aborts as soon as it reads 99: the write itself may already hear that the connection was lost.
        }

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        var otherEx = await Assert.ThrowsAsync<RpcException>(() => other.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Equal(StatusCode.Unavailable, otherEx.StatusCode);

        // The channel reconnects for the next call.
        using var again = channel.DuplexStreaming(TestService.Chat);
        await again.RequestStream.WriteAsync(TestService.Message(5)).WaitAsync(Timeout);
        Assert.True(await again.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task ServerStop_RunningStreamEndsWithUnavailable()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var router = new GrpcRouter();
        router.MapServerStreaming(TestService.Count, async (_, writer, context) =>
        {
            await writer.WriteAsync(new Pong { EngineId = 1 }, context.CancellationToken);
            started.TrySetResult();
            await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, context.CancellationToken);
        });
        var server = await TestServer.StartAsync(router);
        var channel = server.Channel();
        using var call = channel.ServerStreaming(TestService.Count, TestService.Message(1));
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        await started.Task.WaitAsync(Timeout);

        await server.Server.StopAsync(CancellationToken.None).WaitAsync(Timeout);

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        await server.DisposeAsync();
    }

    [Theory]
    [InlineData("POST", "text/plain", 415)]
    [InlineData("GET", "application/grpc", 405)]
    public async Task RawHttp_NotGrpc_RefusedWithHttpStatus(string method, string contentType, int expected)
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        using var client = RawClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), $"https://127.0.0.1:{server.EndPoint.Port}/capcluster.test.Echo/Echo")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (method == "POST")
        {
            request.Content = new ByteArrayContent([0, 0, 0, 0, 0]);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        using var response = await client.SendAsync(request, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(expected, (int)response.StatusCode);
    }

    [Fact]
    public async Task RawHttp_UnknownPath_Http200TrailersOnlyUnimplemented()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        using var client = RawClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"https://127.0.0.1:{server.EndPoint.Port}/nope.Svc/Nothing")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.ParseAdd("trailers");

        using var response = await client.SendAsync(request, CancellationToken.None).WaitAsync(Timeout);
        var body = await response.Content.ReadAsByteArrayAsync().WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("12", response.Headers.GetValues("grpc-status").Single());
        Assert.Empty(body);
    }

    [Fact]
    public async Task RawHttp_CompressedFlagWithoutEncoding_Internal()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        using var client = RawClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"https://127.0.0.1:{server.EndPoint.Port}/capcluster.test.Echo/Echo")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent([1, 0, 0, 0, 2, 0x10, 0x01]),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.ParseAdd("trailers");

        using var response = await client.SendAsync(request, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal("13", response.Headers.GetValues("grpc-status").Single());
    }

    [Fact]
    public async Task NoClientCertificate_AuthorizerSeesNullAndRefusesUnauthenticated()
    {
        var sawNull = false;
        var authorizer = new DelegateAuthorizer(context =>
        {
            sawNull = context.ClientCertificate is null;
            return sawNull
                ? throw new RpcException(new Status(StatusCode.Unauthenticated, "a client certificate is required"))
                : ValueTask.CompletedTask;
        });
        await using var server = await TestServer.StartAsync(TestService.StandardRouter(), authorizer);
        var channel = server.Channel(o => o.ClientCertificate = null);

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestService.Echo, TestService.Message(1)).WaitAsync(Timeout));

        Assert.True(sawNull);
        Assert.Equal(new Status(StatusCode.Unauthenticated, "a client certificate is required"), ex.Status);
    }

    private static HttpMessageInvoker RawClient() => new(new SocketsHttpHandler
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    });

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Protocol.Tests;

public sealed class CallTests
{
    private static readonly TimeSpan Timeout = TestServer.Timeout;

    [Fact]
    public async Task Unary_Roundtrip_ReturnsHandlerResponseAndServerSeesClientCertificate()
    {
        CallContext? seen = null;
        string? authorization = null;
        var router = new GrpcRouter();
        router.MapUnary(TestService.Echo, (request, context) =>
        {
            seen = context;
            authorization = context.GetRequestHeader("authorization");
            return Task.FromResult(new Pong { EngineId = request.EngineId + 1, Payload = request.Payload });
        });
        await using var server = await TestServer.StartAsync(router);
        var channel = server.Channel(o => o.DefaultHeaders = [new("authorization", "Capability abc")]);

        var reply = await channel.UnaryAsync(TestService.Echo, TestService.Message(41, 10)).WaitAsync(Timeout);

        Assert.Equal(42, reply.EngineId);
        Assert.Equal(TestService.Filled(10), reply.Payload.ToByteArray());
        Assert.NotNull(seen);
        Assert.Equal("/capcluster.test.Echo/Echo", seen.Method);
        Assert.Equal("capcluster.test.Echo", seen.ServiceName);
        Assert.Equal("Echo", seen.MethodName);
        Assert.StartsWith("ipv4:127.0.0.1:", seen.Peer, StringComparison.Ordinal);
        Assert.Equal(server.EndPoint.Port, seen.LocalPort);
        Assert.Equal(TestCertificates.Main.Client.Thumbprint, seen.ClientCertificate?.Thumbprint);
        Assert.Equal("Capability abc", authorization);
        Assert.Equal(DateTime.MaxValue, seen.Deadline);
    }

    [Fact]
    public async Task ServerStreaming_ThousandMessages_AllArriveInOrder()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        var channel = server.Channel();

        using var call = channel.ServerStreaming(TestService.Count, TestService.Message(1000));
        var ids = new List<int>();
        await foreach (var message in call.ResponseStream.ReadAllAsync().WithCancellation(CancellationToken.None))
        {
            ids.Add(message.EngineId);
        }

        Assert.Equal(Enumerable.Range(0, 1000), ids);
    }

    [Fact]
    public async Task ClientStreaming_ManyMessages_ServerSumsThemAll()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        var channel = server.Channel();

        using var call = channel.ClientStreaming(TestService.Sum);
        for (var i = 1; i <= 100; i++)
        {
            await call.RequestStream.WriteAsync(TestService.Message(i)).WaitAsync(Timeout);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(Timeout);
        var reply = await call.ResponseAsync.WaitAsync(Timeout);

        Assert.Equal(5050, reply.EngineId);
        Assert.Equal("100", reply.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task Duplex_PingPongHundredMessages_EachAnsweredBeforeTheNext()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        var channel = server.Channel();

        using var call = channel.DuplexStreaming(TestService.Chat);
        for (var i = 0; i < 100; i++)
        {
            await call.RequestStream.WriteAsync(TestService.Message(i, 100)).WaitAsync(Timeout);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
            Assert.Equal(i + 1, call.ResponseStream.Current.EngineId);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Duplex_IdleForEightSeconds_IsNotCutAndStillWorks()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        var channel = server.Channel();

        using var call = channel.DuplexStreaming(TestService.Chat);
        await call.RequestStream.WriteAsync(TestService.Message(1)).WaitAsync(Timeout);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));

        // The one test that waits: Kestrel's MinRequestBodyDataRate would kill an idle stream after ~5 s.
        await Task.Delay(TimeSpan.FromSeconds(8));

        await call.RequestStream.WriteAsync(TestService.Message(10)).WaitAsync(Timeout);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(11, call.ResponseStream.Current.EngineId);
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Unary_FortyMegabytesBothWays_ArrivesIntact()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        var channel = server.Channel();
        var request = TestService.Message(7, 40 * 1024 * 1024);

        var reply = await channel.UnaryAsync(TestService.Echo, request).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(8, reply.EngineId);
        Assert.True(reply.Payload.Span.SequenceEqual(request.Payload.Span));
    }

    [Fact]
    public async Task ServerStreaming_LargeMessages_ArriveIntact()
    {
        var router = new GrpcRouter();
        router.MapServerStreaming(TestService.Count, async (request, writer, context) =>
        {
            for (var i = 0; i < request.EngineId; i++)
            {
                await writer.WriteAsync(TestService.Message(i, 3 * 1024 * 1024), context.CancellationToken);
            }
        });
        await using var server = await TestServer.StartAsync(router);
        var channel = server.Channel();

        using var call = channel.ServerStreaming(TestService.Count, TestService.Message(5));
        var count = 0;
        while (await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout))
        {
            Assert.Equal(count, call.ResponseStream.Current.EngineId);
            Assert.Equal(3 * 1024 * 1024, call.ResponseStream.Current.Payload.Length);
            count++;
        }

        Assert.Equal(5, count);
    }

    [Fact]
    public async Task Calls_ManyConcurrentUnaryOnOneChannel_AllSucceed()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        var channel = server.Channel();

        var replies = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => channel.UnaryAsync(TestService.Echo, TestService.Message(i)))).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(1, 200), replies.Select(r => r.EngineId));
    }

    [Fact]
    public async Task Unary_EmptyMessage_RoundTrips()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        var channel = server.Channel();

        var reply = await channel.UnaryAsync(TestService.Echo, new Pong { EngineId = -1 }).WaitAsync(Timeout);

        Assert.Equal(0, reply.EngineId);
        Assert.Equal(ByteString.Empty, reply.Payload);
    }
}

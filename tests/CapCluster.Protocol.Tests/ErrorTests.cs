using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Tests;

public sealed class ErrorTests
{
    private static readonly TimeSpan Timeout = TestServer.Timeout;

    [Fact]
    public async Task Unary_RequestOverServerMax_ResourceExhausted()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter(), configure: o => o.MaxReceiveMessageSize = 1000);
        var channel = server.Channel();

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestService.Echo, TestService.Message(1, 2000)).WaitAsync(Timeout));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("exceeds the maximum configured message size", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unary_ResponseOverClientMax_ResourceExhausted()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        var channel = server.Channel(o => o.MaxReceiveMessageSize = 1000);

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestService.Echo, TestService.Message(1, 2000)).WaitAsync(Timeout));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("exceeds the maximum configured message size", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unary_RequestOverClientSendMax_ResourceExhaustedBeforeSending()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        var channel = server.Channel(o => o.MaxSendMessageSize = 1000);

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestService.Echo, TestService.Message(1, 2000)).WaitAsync(Timeout));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task UnknownMethod_Unimplemented()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        var channel = server.Channel();

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestService.Missing, TestService.Message(1)).WaitAsync(Timeout));

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }

    [Fact]
    public async Task Authorizer_Refuses_CallerGetsStatusAndDetailAndHandlerNeverRuns()
    {
        var handlerRan = false;
        var router = new GrpcRouter();
        router.MapUnary(TestService.Echo, (request, _) =>
        {
            handlerRan = true;
            return Task.FromResult(request);
        });
        router.MapDuplex(TestService.Chat, (_, _, _) =>
        {
            handlerRan = true;
            return Task.CompletedTask;
        });
        var authorizer = new DelegateAuthorizer(context =>
            context.GetRequestHeader("authorization") == "Capability good"
                ? ValueTask.CompletedTask
                : throw new RpcException(new Status(StatusCode.PermissionDenied, "capability cap-42 is revoked — ask for a new one (100%)")));
        await using var server = await TestServer.StartAsync(router, authorizer);
        var refused = server.Channel();
        var allowed = server.Channel(o => o.DefaultHeaders = [new("authorization", "Capability good")]);

        var unary = await Assert.ThrowsAsync<RpcException>(() => refused.UnaryAsync(TestService.Echo, TestService.Message(1)).WaitAsync(Timeout));
        using var duplex = refused.DuplexStreaming(TestService.Chat);
        var stream = await Assert.ThrowsAsync<RpcException>(() => duplex.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(StatusCode.PermissionDenied, unary.StatusCode);
        Assert.Equal("capability cap-42 is revoked — ask for a new one (100%)", unary.Status.Detail);
        Assert.Equal(unary.Status, stream.Status);
        Assert.False(handlerRan);
        Assert.Equal(1, (await allowed.UnaryAsync(TestService.Echo, TestService.Message(1)).WaitAsync(Timeout)).EngineId);
        Assert.True(handlerRan);
    }

    [Fact]
    public async Task CallsRefusedByTheirHandler_OrUnparseable_AreToldToTheAuthorizer_OthersAreNot()
    {
        var router = TestService.StandardRouter();
        router.MapUnary(TestService.PingFail, (_, _) => throw new RpcException(new Status(StatusCode.InvalidArgument, "a blob length of -5 — not one")));
        var told = System.Threading.Channels.Channel.CreateUnbounded<(string Method, Status Status)>();
        var authorizer = new DelegateAuthorizer(_ => ValueTask.CompletedTask, (context, status) => told.Writer.TryWrite((context.MethodName, status)));
        await using var server = await TestServer.StartAsync(router, authorizer);
        var channel = server.Channel();
        var raw = Marshallers.Create<byte[]>(bytes => bytes, bytes => bytes);
        var garbledEcho = new Method<byte[], byte[]>(MethodType.Unary, TestService.Service, "Echo", raw, raw);

        Assert.Equal(2, (await channel.UnaryAsync(TestService.Echo, TestService.Message(1)).WaitAsync(Timeout)).EngineId);
        var refused = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestService.PingFail, TestService.Message(1)).WaitAsync(Timeout));
        // A field tag of 0 is no protobuf message.
        var garbled = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(garbledEcho, [0x00, 0xFF, 0xFF]).WaitAsync(Timeout));

        var first = await told.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        var second = await told.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(("PingFail", refused.Status), first);
        Assert.Equal("Echo", second.Method);
        Assert.Equal(garbled.StatusCode, second.Status.StatusCode);
        Assert.Contains(second.Status.StatusCode, new[] { StatusCode.Unknown, StatusCode.Internal, StatusCode.InvalidArgument });
        Assert.False(told.Reader.TryRead(out _));
    }

    [Fact]
    public async Task ServerStreaming_HandlerThrowsRpcExceptionMidStream_StatusArrivesAfterEarlierMessages()
    {
        var router = new GrpcRouter();
        router.MapServerStreaming(TestService.Count, async (_, writer, context) =>
        {
            for (var i = 0; i < 3; i++)
            {
                await writer.WriteAsync(new Pong { EngineId = i }, context.CancellationToken);
            }

            throw new RpcException(new Status(StatusCode.Aborted, "engine 3 died"));
        });
        await using var server = await TestServer.StartAsync(router);
        var channel = server.Channel();

        using var call = channel.ServerStreaming(TestService.Count, TestService.Message(0));
        var ids = new List<int>();
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout))
            {
                ids.Add(call.ResponseStream.Current.EngineId);
            }
        });

        Assert.Equal([0, 1, 2], ids);
        Assert.Equal(new Status(StatusCode.Aborted, "engine 3 died"), ex.Status);
    }

    [Fact]
    public async Task Handler_ThrowsOrdinaryException_UnknownWithoutInternalText()
    {
        var router = new GrpcRouter();
        router.MapUnary<Pong, Pong>(TestService.Echo, (_, _) => throw new InvalidOperationException("secret internal path /etc/x"));
        await using var server = await TestServer.StartAsync(router);
        var channel = server.Channel();

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestService.Echo, TestService.Message(1)).WaitAsync(Timeout));

        Assert.Equal(StatusCode.Unknown, ex.StatusCode);
        Assert.DoesNotContain("secret", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deadline_Passes_DeadlineExceededAndServerTokenCancelled()
    {
        var serverCancelled = new TaskCompletionSource<DateTime>(TaskCreationOptions.RunContinuationsAsynchronously);
        var router = new GrpcRouter();
        router.MapUnary(TestService.Echo, async (request, context) =>
        {
            using var registration = context.CancellationToken.Register(() => serverCancelled.TrySetResult(context.Deadline));
            await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, context.CancellationToken);
            return request;
        });
        router.MapUnary<Pong, Pong>(TestService.Ping, (request, _) => Task.FromResult(request));
        await using var server = await TestServer.StartAsync(router);
        var channel = server.Channel();
        // A first call connects and runs the server's dispatch once: on a loaded machine a cold first call could
        // take longer than the deadline below, and the handler would never start (nor see its token cancelled).
        await channel.UnaryAsync(TestService.Ping, TestService.Message(0)).WaitAsync(Timeout);

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            channel.UnaryAsync(TestService.Echo, TestService.Message(1), new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(500))).WaitAsync(Timeout));
        var serverDeadline = await serverCancelled.Task.WaitAsync(Timeout);

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.NotEqual(DateTime.MaxValue, serverDeadline);
    }

    [Fact]
    public async Task Deadline_AlreadyPassed_FailsWithoutCalling()
    {
        await using var server = await TestServer.StartAsync(TestService.StandardRouter());
        var channel = server.Channel();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            channel.UnaryAsync(TestService.Echo, TestService.Message(1), new CallOptions(deadline: DateTime.UtcNow.AddSeconds(-1))).WaitAsync(Timeout));

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
    }

    [Fact]
    public async Task ClientCancellation_ObservedByServer_AndCallerGetsCancelled()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var serverCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var router = new GrpcRouter();
        router.MapDuplex(TestService.Chat, (requests, _, context) => ReadUntilCancelled(requests, context, started, serverCancelled));
        await using var server = await TestServer.StartAsync(router);
        var channel = server.Channel();
        using var cts = new CancellationTokenSource();

        using var call = channel.DuplexStreaming(TestService.Chat, new CallOptions(cancellationToken: cts.Token));
        await call.RequestStream.WriteAsync(TestService.Message(1)).WaitAsync(Timeout);
        await started.Task.WaitAsync(Timeout);
        var read = call.ResponseStream.MoveNext(CancellationToken.None);
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => read.WaitAsync(Timeout));
        await serverCancelled.Task.WaitAsync(Timeout);
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
    }

    [Fact]
    public async Task DisposingDuplexCall_ResetsStream_ServerObservesCancellation()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var serverCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var router = new GrpcRouter();
        router.MapDuplex(TestService.Chat, (requests, _, context) => ReadUntilCancelled(requests, context, started, serverCancelled));
        await using var server = await TestServer.StartAsync(router);
        var channel = server.Channel();

        var call = channel.DuplexStreaming(TestService.Chat);
        await call.RequestStream.WriteAsync(TestService.Message(1)).WaitAsync(Timeout);
        await started.Task.WaitAsync(Timeout);
        call.Dispose();

        await serverCancelled.Task.WaitAsync(Timeout);
    }

    /// <summary>
    /// A handler that reads until the client goes away, and says when it learnt so. Kestrel fails the read of a reset
    /// stream at once but cancels the call's token from the thread pool: on a busy machine the read's error comes
    /// first, and the handler has ended (its registration gone) before the token fires. Either is the server seeing it.
    /// </summary>
    private static async Task ReadUntilCancelled(IAsyncStreamReader<Pong> requests, CallContext context, TaskCompletionSource started, TaskCompletionSource serverCancelled)
    {
        using var registration = context.CancellationToken.Register(() => serverCancelled.TrySetResult());
        started.TrySetResult();
        try
        {
            while (await requests.MoveNext(context.CancellationToken))
            {
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            serverCancelled.TrySetResult();
            throw;
        }
    }

    [Fact]
    public async Task ClientStreaming_ServerFails_ResponseAndLaterWritesReportTheServerStatus()
    {
        var router = new GrpcRouter();
        router.MapClientStreaming<Pong, Pong>(TestService.Sum, async (requests, context) =>
        {
            await requests.MoveNext(context.CancellationToken);
            await requests.MoveNext(context.CancellationToken);
            throw new RpcException(new Status(StatusCode.InvalidArgument, "item 2 is bad"));
        });
        await using var server = await TestServer.StartAsync(router);
        var channel = server.Channel();

        using var call = channel.ClientStreaming(TestService.Sum);
        await call.RequestStream.WriteAsync(TestService.Message(1, 1000)).WaitAsync(Timeout);
        await call.RequestStream.WriteAsync(TestService.Message(2, 1000)).WaitAsync(Timeout);

        // (Writing on while the status is on its way races with grpc-dotnet's own cancellation of the request
        // stream, which can then win over the server's status: the response is awaited first.)
        var responseError = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Timeout));
        var writeError = await Assert.ThrowsAsync<RpcException>(() => call.RequestStream.WriteAsync(TestService.Message(3, 1000)).WaitAsync(Timeout));

        Assert.Equal(new Status(StatusCode.InvalidArgument, "item 2 is bad"), responseError.Status);
        Assert.Equal(responseError.Status, writeError.Status);
    }
}

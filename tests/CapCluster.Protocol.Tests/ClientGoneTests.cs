using CapCluster.Protocol.V1;
using CapCluster.Tests.Shared;
using Microsoft.Extensions.Logging;

namespace CapCluster.Protocol.Tests;

/// <summary>A client that goes away in the middle of a stream is a cancelled call in the server's log, not a handler failure.</summary>
public sealed class ClientGoneTests
{
    [Fact]
    public async Task AClientThatResetsItsStream_WhileTheHandlerReads_IsLoggedAsCancelled_NotAsAnError()
    {
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var router = new GrpcRouter();
        router.MapDuplex(TestService.Chat, async (requests, _, _) =>
        {
            try
            {
                await requests.MoveNext(CancellationToken.None);
                reading.TrySetResult();
                // A read that does not watch the call's token, as a session's reader: the reset ends it with an IOException.
                await requests.MoveNext(CancellationToken.None);
                ended.TrySetResult(null);
            }
            catch (Exception e)
            {
                ended.TrySetResult(e);
                throw;
            }
        });
        using var logs = new ListLoggerFactory();
        await using var server = await TestServer.StartAsync(router, logging: logs);
        var channel = server.Channel();

        var call = channel.DuplexStreaming(TestService.Chat);
        await call.RequestStream.WriteAsync(new Pong { EngineId = 1 });
        await reading.Task.WaitAsync(TestServer.Timeout);
        call.Dispose();

        Assert.NotNull(await ended.Task.WaitAsync(TestServer.Timeout));
        var cancelled = await logs.WaitForAsync(e => e.Message.Contains("was cancelled by the client", StringComparison.Ordinal), TestServer.Timeout);

        Assert.Equal(LogLevel.Debug, cancelled.Level);
        Assert.Contains("/capcluster.test.Echo/Chat", cancelled.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Events, e => e.Message.Contains("unexpected exception", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AReadThatFailsBeforeTheResetIsSeen_IsStillLoggedAsCancelled()
    {
        // Kestrel fails the read of a reset stream at once and cancels the call from the thread pool; on a busy
        // machine the failed read comes first. Here the handler's read fails, and only then does the client go away.
        var failing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var router = new GrpcRouter();
        router.MapDuplex(TestService.Chat, async (requests, _, _) =>
        {
            await requests.MoveNext(CancellationToken.None);
            failing.TrySetResult();
            throw new IOException("The client reset the request stream.");
        });
        using var logs = new ListLoggerFactory();
        await using var server = await TestServer.StartAsync(router, logging: logs);
        var channel = server.Channel();

        var call = channel.DuplexStreaming(TestService.Chat);
        await call.RequestStream.WriteAsync(new Pong { EngineId = 1 });
        await failing.Task.WaitAsync(TestServer.Timeout);
        call.Dispose();

        var cancelled = await logs.WaitForAsync(e => e.Message.Contains("was cancelled by the client", StringComparison.Ordinal), TestServer.Timeout);
        Assert.Equal(LogLevel.Debug, cancelled.Level);
        Assert.DoesNotContain(logs.Events, e => e.Message.Contains("unexpected exception", StringComparison.Ordinal));
    }
}

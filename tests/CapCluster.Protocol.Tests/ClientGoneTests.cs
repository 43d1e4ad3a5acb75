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
}

using System.Collections.Concurrent;
using CapCluster.Protocol.V1;
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
        var logs = new Captured();
        using var logging = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        await using var server = await TestServer.StartAsync(router, logging: logging);
        var channel = server.Channel();

        var call = channel.DuplexStreaming(TestService.Chat);
        await call.RequestStream.WriteAsync(new Pong { EngineId = 1 });
        await reading.Task.WaitAsync(TestServer.Timeout);
        call.Dispose();

        Assert.NotNull(await ended.Task.WaitAsync(TestServer.Timeout));
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        while (!logs.Lines.Any(l => l.Contains("was cancelled by the client", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Contains(logs.Lines, l => l.StartsWith("Debug", StringComparison.Ordinal) && l.Contains("/capcluster.test.Echo/Chat", StringComparison.Ordinal) && l.Contains("was cancelled by the client", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("unexpected exception", StringComparison.Ordinal));
    }

    private sealed class Captured : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(Lines);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{logLevel} {formatter(state, exception)}");
        }
    }
}

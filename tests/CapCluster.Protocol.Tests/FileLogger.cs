using Microsoft.Extensions.Logging;

namespace CapCluster.Protocol.Tests;

/// <summary>Debug aid: set CAPCLUSTER_TEST_LOG=/path to log server and client at Trace level.</summary>
internal sealed class FileLoggerProvider(string path) : ILoggerProvider
{
    private readonly object _gate = new();

    public static ILoggerFactory? FromEnvironment() =>
        Environment.GetEnvironmentVariable("CAPCLUSTER_TEST_LOG") is { Length: > 0 } path
            ? LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FileLoggerProvider(path)))
            : null;

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    public void Dispose()
    {
    }

    private void Write(string line)
    {
        lock (_gate)
        {
            File.AppendAllText(path, line + Environment.NewLine);
        }
    }

    private sealed class FileLogger(FileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider.Write($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {exception}");
    }
}

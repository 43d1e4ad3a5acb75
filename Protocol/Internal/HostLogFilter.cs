using Microsoft.Extensions.Logging;

namespace CapCluster.Protocol.Internal;

/// <summary>
/// The caller's logger factory, minus the web host's chatter: per-request "Request starting/finished"
/// lines and "Press Ctrl+C to shut down" mean nothing in a library and would flood the log. Only
/// their warnings and errors pass; Kestrel's own categories pass unchanged.
/// </summary>
internal sealed class HostLogFilter(ILoggerFactory inner) : ILoggerFactory
{
    private static readonly string[] QuietPrefixes = ["Microsoft.AspNetCore.Hosting", "Microsoft.Hosting", "Microsoft.Extensions.Hosting"];

    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return QuietPrefixes.Any(p => categoryName.StartsWith(p, StringComparison.Ordinal)) ? new WarningsOnly(logger) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The caller owns the inner factory.
    }

    private sealed class WarningsOnly(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}

using Microsoft.Extensions.Logging;

namespace CapCluster.Tests.Shared;

/// <summary>An <see cref="ILoggerFactory"/> that keeps every event, for tests that give one to a client; waits end on the event itself.</summary>
internal sealed class ListLoggerFactory : ILoggerFactory
{
    private readonly Lock sync = new();
    private readonly List<LoggedEvent> events = [];
    private readonly List<(Func<LoggedEvent, bool> Match, TaskCompletionSource<LoggedEvent> Found)> waiters = [];

    public IReadOnlyList<LoggedEvent> Events
    {
        get
        {
            lock (sync)
            {
                return [.. events];
            }
        }
    }

    /// <summary>The first event that matches, logged already or once it is.</summary>
    public Task<LoggedEvent> WaitForAsync(Func<LoggedEvent, bool> match, TimeSpan timeout)
    {
        lock (sync)
        {
            if (events.FirstOrDefault(match) is { } found)
            {
                return Task.FromResult(found);
            }

            var waiter = new TaskCompletionSource<LoggedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            waiters.Add((match, waiter));
            return waiter.Task.WaitAsync(timeout);
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private void Add(LoggedEvent logged)
    {
        lock (sync)
        {
            events.Add(logged);
            foreach (var waiter in waiters.Where(w => w.Match(logged)).ToList())
            {
                waiters.Remove(waiter);
                waiter.Found.TrySetResult(logged);
            }
        }
    }

    private sealed class Logger(ListLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            factory.Add(new LoggedEvent(category, logLevel, eventId.Name, formatter(state, exception), properties.ToDictionary(p => p.Key, p => p.Value)));
        }
    }
}

/// <summary>One event a <see cref="ListLoggerFactory"/> kept.</summary>
internal sealed record LoggedEvent(string Category, LogLevel Level, string? Name, string Message, IReadOnlyDictionary<string, object?> Properties)
{
    public object? this[string property] => Properties.GetValueOrDefault(property);
}

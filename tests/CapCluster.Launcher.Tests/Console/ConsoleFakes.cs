using System.Collections.Concurrent;
using System.Text;
using CapCluster.Client;
using CapCluster.Repl;
using Spectre.Console;

namespace CapCluster.Launcher.Tests.Console;

/// <summary>A cluster whose answers the test gives, engine by engine.</summary>
internal sealed class FakeCluster : IClusterCalls
{
    public List<int> Ids { get; } = [0, 1];

    public ConcurrentQueue<(int EngineId, string Code)> Executed { get; } = new();

    public ConcurrentQueue<(int EngineId, int Count)> HistoryAsked { get; } = new();

    public ConcurrentDictionary<(int EngineId, string Code), TaskCompletionSource<ExecuteResults>> Answers { get; } = new();

    /// <summary>When set, executions answer at once with this; otherwise they wait for the test.</summary>
    public Func<int, string, ExecuteResults>? Answer { get; set; }

    public IReadOnlyList<int>? Targets { get; set; }

    public int StatusShown { get; private set; }

    public Task<IReadOnlyList<int>> GetIdsAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<int>>([.. Ids]);

    public Task<ExecuteResults> ExecuteAsync(string code, int engineId)
    {
        Executed.Enqueue((engineId, code));
        if (Answer is { } answer)
        {
            // As the client does: a failure arrives in the task, not thrown by the call.
            try
            {
                return Task.FromResult(answer(engineId, code));
            }
            catch (Exception e)
            {
                return Task.FromException<ExecuteResults>(e);
            }
        }

        return Answers.GetOrAdd((engineId, code), _ => new TaskCompletionSource<ExecuteResults>()).Task;
    }

    public Task<ExecuteResults> GetResultAsync(int executionCount, int engineId)
    {
        HistoryAsked.Enqueue((engineId, executionCount));
        return Task.FromResult(Results(Value(engineId, executionCount, $"code {executionCount}", executionCount * 100)));
    }

    public Task ShowStatusAsync(CancellationToken cancellationToken)
    {
        StatusShown++;
        return Task.CompletedTask;
    }

    public TaskCompletionSource<ExecuteResults> Pending(int engineId, string code) =>
        Answers.GetOrAdd((engineId, code), _ => new TaskCompletionSource<ExecuteResults>());

    public static ExecuteResult Value(int engineId, int count, string code, object value) =>
        new(engineId, count, code, string.Empty, string.Empty, true, value.ToString()!, value);

    public static ExecuteResults Results(params ExecuteResult[] results) => new(results);
}

/// <summary>Local code that records what it was given and answers what the test says.</summary>
internal sealed class FakeLocal : ILocalCode
{
    public List<string> Ran { get; } = [];

    public (bool HasValue, object? Value) Next { get; set; } = (false, null);

    public Task<(bool HasValue, object? Value)> RunAsync(string code, CancellationToken cancellationToken)
    {
        Ran.Add(code);
        return Task.FromResult(Next);
    }
}

/// <summary>A console without colours whose text the test reads, and can wait for.</summary>
internal sealed class CapturedConsole
{
    private readonly SignallingWriter writer = new();

    public CapturedConsole()
    {
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.No,
        });
        Console.Profile.Width = 200;
    }

    public IAnsiConsole Console { get; }

    public string Text => writer.Snapshot();

    public Task WaitForAsync(string text) => writer.WaitForAsync(text, TimeSpan.FromSeconds(10));

    private sealed class SignallingWriter : TextWriter
    {
        private readonly StringBuilder text = new();
        private readonly Lock gate = new();
        private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            TaskCompletionSource signal;
            lock (gate)
            {
                text.Append(value);
                signal = changed;
                changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            signal.TrySetResult();
        }

        public string Snapshot()
        {
            lock (gate)
            {
                return text.ToString();
            }
        }

        public async Task WaitForAsync(string expected, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                Task next;
                lock (gate)
                {
                    if (text.ToString().Contains(expected, StringComparison.Ordinal))
                    {
                        return;
                    }

                    next = changed.Task;
                }

                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || await Task.WhenAny(next, Task.Delay(left)) != next)
                {
                    throw new TimeoutException($"'{expected}' did not appear within {timeout}; the console shows:\n{Snapshot()}");
                }
            }
        }
    }
}

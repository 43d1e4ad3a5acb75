using CapCluster.Repl;
using CapCluster.Security;

namespace CapCluster.Launcher.Tests.Console;

public sealed class ConsoleInputTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ReadInput_UnfinishedCode_ReadsMoreLinesWithTheContinuationPrompt()
    {
        var reader = new ScriptedReader("for (var i = 0; i < 2; i++) {", "  Console.WriteLine(i);", "}", "%%px", "var a = 1;", "a", "", "1 + 1");
        var session = new ConsoleSession(new FakeCluster(), new FakeLocal(), new ConsoleWriter(new CapturedConsole().Console), new ConsoleOptions(), TimeProvider.System);

        var first = await ClusterConsole.ReadInputAsync(reader, session, CancellationToken.None).WaitAsync(Timeout);
        var cell = await ClusterConsole.ReadInputAsync(reader, session, CancellationToken.None).WaitAsync(Timeout);
        var last = await ClusterConsole.ReadInputAsync(reader, session, CancellationToken.None).WaitAsync(Timeout);
        var end = await ClusterConsole.ReadInputAsync(reader, session, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal("for (var i = 0; i < 2; i++) {\n  Console.WriteLine(i);\n}", first);
        Assert.Equal(new ConsoleCommand.Px("var a = 1;\na"), MagicParser.Parse(cell!, autoPx: false));
        Assert.Equal("1 + 1", last);
        Assert.Null(end);
        Assert.Equal(["In [1]: ", "   ...: ", "   ...: ", "In [1]: ", "   ...: ", "   ...: ", "   ...: ", "In [1]: ", "In [1]: "], reader.Prompts);
    }

    [Fact]
    public async Task ReadInput_PxLineWithoutItsSemicolon_IsThatLineAlone()
    {
        var reader = new ScriptedReader("%px throw new Exception(\"boom\")", "var after = 1;");
        var session = new ConsoleSession(new FakeCluster(), new FakeLocal(), new ConsoleWriter(new CapturedConsole().Console), new ConsoleOptions(), TimeProvider.System);

        var px = await ClusterConsole.ReadInputAsync(reader, session, CancellationToken.None).WaitAsync(Timeout);
        var next = await ClusterConsole.ReadInputAsync(reader, session, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(new ConsoleCommand.Px("throw new Exception(\"boom\")"), MagicParser.Parse(px!, autoPx: false));
        Assert.Equal("var after = 1;", next);
    }

    [Fact]
    public async Task Loop_RunsEachInputAndEndsAtTheEndOfInput()
    {
        var local = new FakeLocal();
        var session = new ConsoleSession(new FakeCluster(), local, new ConsoleWriter(new CapturedConsole().Console), new ConsoleOptions(), TimeProvider.System);
        using var interrupts = new Interrupts();

        await ClusterConsole.LoopAsync(new ScriptedReader("var a = 1;", "", "a + 1"), session, interrupts).WaitAsync(Timeout);

        Assert.Equal(["var a = 1;", "a + 1"], local.Ran);
        Assert.Equal("In [3]: ", session.Prompt);
    }

    [Fact]
    public async Task Leave_AClientWhoseDisposalNeverEnds_IsAbandonedAfterTheLeaveTimeout_AndTheOthersAreDisposed()
    {
        var stuck = new Disposable(new TaskCompletionSource().Task);
        var quick = new Disposable(Task.CompletedTask);

        await ClusterConsole.LeaveAsync([stuck, quick], TimeSpan.FromMilliseconds(200)).WaitAsync(Timeout);

        // Each disposal starts on the pool, which on a busy machine may take longer than the leave timeout.
        await stuck.Started.WaitAsync(Timeout);
        await quick.Started.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Console_WithNoControllerRunning_SaysWhereItLookedAndHowToStartOne()
    {
        var folder = Directory.CreateTempSubdirectory("capcluster-console-").FullName;
        try
        {
            var paths = ClusterPaths.Under(folder, "lab");
            var console = new ClusterConsole(paths, new CapturedConsole().Console, new ConsoleOptions());

            var error = await Assert.ThrowsAsync<CapClusterException>(() => console.RunAsync("lab", null, CancellationToken.None)).WaitAsync(Timeout);

            Assert.Contains("no controller is running for profile lab", error.Message, StringComparison.Ordinal);
            Assert.Contains($"(looked in {paths.SecurityFolder})", error.Message, StringComparison.Ordinal);
            Assert.Contains("`capcluster start -n 4 --profile lab`", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private sealed class ScriptedReader(params string[] lines) : ILineReader
    {
        private readonly Queue<string> lines = new(lines);

        public List<string> Prompts { get; } = [];

        public Task<string?> ReadLineAsync(string prompt, CancellationToken cancellationToken)
        {
            Prompts.Add(prompt);
            return Task.FromResult(lines.TryDequeue(out var line) ? line : null);
        }
    }

    private sealed class Disposable(Task disposal) : IAsyncDisposable
    {
        private readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Started => started.Task;

        public ValueTask DisposeAsync()
        {
            started.TrySetResult();
            return new ValueTask(disposal);
        }
    }
}

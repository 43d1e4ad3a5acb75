using CapCluster.Client;
using CapCluster.Repl;

namespace CapCluster.Launcher.Tests.Console;

public sealed class ConsoleSessionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly FakeCluster cluster = new();
    private readonly FakeLocal local = new();
    private readonly CapturedConsole screen = new();

    private ConsoleSession Session(ConsoleOptions? options = null) =>
        new(cluster, local, new ConsoleWriter(screen.Console), options ?? new ConsoleOptions { WaitNoticeAfter = TimeSpan.FromMinutes(5) }, TimeProvider.System);

    [Fact]
    public async Task Px_PrintsEachEnginesAnswerAsItArrives()
    {
        var session = Session();

        var run = session.RunAsync("%px x * 2", CancellationToken.None);
        cluster.Pending(1, "x * 2").SetResult(FakeCluster.Results(FakeCluster.Value(1, 2, "x * 2", 42)));
        await screen.WaitForAsync("[1] Out[2]: 42");
        Assert.False(run.IsCompleted);
        Assert.DoesNotContain("[0]", screen.Text, StringComparison.Ordinal);

        cluster.Pending(0, "x * 2").SetResult(FakeCluster.Results(FakeCluster.Value(0, 2, "x * 2", 42)));
        await run.WaitAsync(Timeout);

        Assert.Contains("[0] Out[2]: 42", screen.Text, StringComparison.Ordinal);
        Assert.Equal([(0, "x * 2"), (1, "x * 2")], cluster.Executed.OrderBy(e => e.EngineId));
    }

    [Fact]
    public async Task WithoutMultiEngine_EngineMagicsSaySoAndHowToGetOne_AndLocalCodeStillRuns()
    {
        var session = new ConsoleSession(null, local, new ConsoleWriter(screen.Console), new ConsoleOptions(), TimeProvider.System);

        foreach (var magic in new[] { "%px 1", "%autopx", "%result", "%targets 0", "%status" })
        {
            await session.RunAsync(magic, CancellationToken.None).WaitAsync(Timeout);
        }

        await session.RunAsync("1 + 1", CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(5, screen.Text.Split(ConsoleSession.NoMultiEngine[..40]).Length - 1);
        Assert.Contains("--cap-file", screen.Text, StringComparison.Ordinal);
        Assert.False(session.AutoPx);
        Assert.Equal(["1 + 1"], local.Ran);
    }

    [Fact]
    public async Task Px_RemoteErrorOnOneEngine_ShowsItBesideTheOthersOutput()
    {
        var session = Session();
        cluster.Answer = (id, code) => id == 1
            ? throw new RemoteException(1, "System.InvalidOperationException", "boom", "   at Submission#3.<Main>()\n--- End of stack trace from previous location ---\n   at CapCluster.Engine.Internal.Scripting.EngineNamespace.RunAsync(String code)", false, 1, 7)
            : FakeCluster.Results(new ExecuteResult(0, 3, code, "printed\n", "warned\n", false, string.Empty, null));

        await session.RunAsync("%px Work()", CancellationToken.None).WaitAsync(Timeout);

        Assert.Contains("[1] Error: System.InvalidOperationException at line 1, column 7: boom", screen.Text, StringComparison.Ordinal);
        Assert.Contains("at Submission#3.<Main>()", screen.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("EngineNamespace", screen.Text, StringComparison.Ordinal);
        Assert.Contains("[0] Out[3]: printed", screen.Text, StringComparison.Ordinal);
        Assert.Contains("[0] Err[3]: warned", screen.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AutoPx_SendsPlainInputToTheEnginesUntilSwitchedOff()
    {
        var session = Session();
        cluster.Answer = (id, code) => FakeCluster.Results(FakeCluster.Value(id, 1, code, 2));

        await session.RunAsync("%autopx", CancellationToken.None);
        Assert.StartsWith("[px] In [2]:", session.Prompt, StringComparison.Ordinal);
        await session.RunAsync("1 + 1", CancellationToken.None).WaitAsync(Timeout);
        await session.RunAsync("%autopx", CancellationToken.None);
        await session.RunAsync("2 + 2", CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal([(0, "1 + 1"), (1, "1 + 1")], cluster.Executed.OrderBy(e => e.EngineId));
        Assert.Equal(["2 + 2"], local.Ran);
        Assert.Equal("In [5]: ", session.Prompt);
        Assert.Contains("%autopx on", screen.Text, StringComparison.Ordinal);
        Assert.Contains("%autopx off", screen.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Interrupt_StopsTheWait_AndResultShowsTheAnswerOnceItCame()
    {
        var session = Session();
        using var interrupt = new CancellationTokenSource();

        var run = session.RunAsync("%px Sleep()", interrupt.Token);
        Assert.False(run.IsCompleted);
        await interrupt.CancelAsync();
        await run.WaitAsync(Timeout);
        Assert.Contains("Interrupted: stopped waiting for engine(s) 0, 1", screen.Text, StringComparison.Ordinal);

        cluster.Pending(0, "Sleep()").SetResult(FakeCluster.Results(FakeCluster.Value(0, 4, "Sleep()", "done0")));
        cluster.Pending(1, "Sleep()").SetResult(FakeCluster.Results(FakeCluster.Value(1, 4, "Sleep()", "done1")));
        await session.RunAsync("%result", CancellationToken.None).WaitAsync(Timeout);

        Assert.Contains("[0] In [4]: Sleep()", screen.Text, StringComparison.Ordinal);
        Assert.Contains("[1] Out[4]: done1", screen.Text, StringComparison.Ordinal);
        Assert.Equal(2, cluster.Executed.Count);
    }

    [Fact]
    public async Task StillRunning_NamesTheEnginesOfTheLastPxCallThatHaveNotAnswered()
    {
        var session = Session();
        Assert.Empty(session.StillRunning);
        using var interrupt = new CancellationTokenSource();
        cluster.Pending(1, "Sleep()").SetResult(FakeCluster.Results(FakeCluster.Value(1, 1, "Sleep()", 1)));

        var run = session.RunAsync("%px Sleep()", interrupt.Token);
        await interrupt.CancelAsync();
        await run.WaitAsync(Timeout);

        Assert.Equal([0], session.StillRunning);
        cluster.Pending(0, "Sleep()").SetResult(FakeCluster.Results(FakeCluster.Value(0, 1, "Sleep()", 0)));
        Assert.Empty(session.StillRunning);
    }

    [Fact]
    public async Task WaitNotice_NamesTheEnginesStillRunning()
    {
        var session = Session(new ConsoleOptions { WaitNoticeAfter = TimeSpan.Zero });
        using var interrupt = new CancellationTokenSource();
        cluster.Pending(0, "Slow()").SetResult(FakeCluster.Results(FakeCluster.Value(0, 1, "Slow()", 1)));

        var run = session.RunAsync("%px Slow()", interrupt.Token);
        await screen.WaitForAsync("Waiting for engine(s) 1... (Ctrl-C stops waiting)");
        await interrupt.CancelAsync();
        await run.WaitAsync(Timeout);
    }

    [Fact]
    public async Task BlockOff_ReturnsAtOnce_AndResultWaits()
    {
        var session = Session();

        await session.RunAsync("%block off", CancellationToken.None).WaitAsync(Timeout);
        await session.RunAsync("%px Later()", CancellationToken.None).WaitAsync(Timeout);
        Assert.Contains("Sent to engine(s) 0, 1 without waiting", screen.Text, StringComparison.Ordinal);

        var result = session.RunAsync("%result", CancellationToken.None);
        Assert.False(result.IsCompleted);
        cluster.Pending(0, "Later()").SetResult(FakeCluster.Results(FakeCluster.Value(0, 1, "Later()", 7)));
        cluster.Pending(1, "Later()").SetResult(FakeCluster.Results(FakeCluster.Value(1, 1, "Later()", 8)));
        await result.WaitAsync(Timeout);

        Assert.Contains("[1] Out[1]: 8", screen.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Targets_SetTheEnginesPxUses_AndAnUnknownEngineIsRefused()
    {
        var session = Session();
        cluster.Answer = (id, code) => FakeCluster.Results(FakeCluster.Value(id, 1, code, id));

        await session.RunAsync("%targets 1", CancellationToken.None).WaitAsync(Timeout);
        await session.RunAsync("%targets 5,0", CancellationToken.None).WaitAsync(Timeout);
        await session.RunAsync("%px Id()", CancellationToken.None).WaitAsync(Timeout);
        await session.RunAsync("%px --targets 0 Other()", CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal([1], cluster.Targets!);
        Assert.Contains("%targets 5,0: no engine 5 (the engines are 0, 1); the targets stay 1", screen.Text, StringComparison.Ordinal);
        Assert.Equal([(1, "Id()"), (0, "Other()")], cluster.Executed);

        await session.RunAsync("%targets all", CancellationToken.None).WaitAsync(Timeout);
        Assert.Null(cluster.Targets);
    }

    [Fact]
    public async Task ResultN_AsksEachTargetEngineForThatExecution()
    {
        var session = Session();

        await session.RunAsync("%result 3", CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal([(0, 3), (1, 3)], cluster.HistoryAsked.OrderBy(h => h.EngineId));
        Assert.Contains("[0] In [3]: code 3", screen.Text, StringComparison.Ordinal);
        Assert.Contains("[1] Out[3]: 300", screen.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Result_BeforeAnyPx_SaysSo()
    {
        await Session().RunAsync("%result", CancellationToken.None).WaitAsync(Timeout);

        Assert.Contains("%result: no %px call yet", screen.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LocalCode_PrintsItsValue_CollectionsAsLists()
    {
        var session = Session();
        local.Next = (true, new List<int> { 21, 21 });

        await session.RunAsync("await mec.PullAsync<int>(\"x\")", CancellationToken.None).WaitAsync(Timeout);
        local.Next = (false, null);
        await session.RunAsync("var y = 1;", CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal("Out[1]: [21, 21]", screen.Text.Trim());
        Assert.Empty(cluster.Executed);
    }

    [Fact]
    public async Task StatusAndInvalidInput_AreHandledWithoutACall()
    {
        var session = Session();

        await session.RunAsync("%status", CancellationToken.None).WaitAsync(Timeout);
        await session.RunAsync("%frobnicate", CancellationToken.None).WaitAsync(Timeout);
        await session.RunAsync("%help", CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(1, cluster.StatusShown);
        Assert.Contains("%frobnicate: unknown magic (%help lists them)", screen.Text, StringComparison.Ordinal);
        Assert.Contains("%autopx", screen.Text, StringComparison.Ordinal);
        Assert.Empty(cluster.Executed);
    }
}

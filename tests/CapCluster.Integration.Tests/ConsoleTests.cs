using System.Diagnostics;
using System.Text.RegularExpressions;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary><c>capcluster console</c> in a real terminal (tmux) against a real 2-engine cluster.</summary>
public sealed class ConsoleTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Console_UnderTmux_RunsMagicsOnBothEngines_SurvivesErrorsAndCtrlC_LeavesOnCtrlD()
    {
        await using var cluster = await StartClusterAsync(2);
        await using var terminal = await StartConsoleAsync(cluster);
        var screen = await terminal.WaitForAsync(s => HasPrompt(s, 1), "the banner and the first prompt", StepTimeout);
        Assert.Contains("2 engine(s) [0, 1]", screen, StringComparison.Ordinal);

        var prompt = 1;
        async Task<string> Enter(string line)
        {
            await terminal.TypeLineAsync(line);
            var next = ++prompt;
            return await terminal.WaitForAsync(s => HasPrompt(s, next), $"the prompt In [{next}] after `{line}`", StepTimeout);
        }

        await Enter("%px var x = 21;");
        screen = await Enter("%px x * 2");
        Assert.Equal(1, Count(screen, 0, "Out", "42"));
        Assert.Equal(1, Count(screen, 1, "Out", "42"));

        // Up recalls the last input from RadLine's history: the same call again.
        await terminal.PressAsync("Up");
        await terminal.PressAsync("Enter");
        screen = await terminal.WaitForAsync(s => HasPrompt(s, prompt + 1), "the prompt after Up, Enter", StepTimeout);
        prompt++;
        Assert.Equal(2, Count(screen, 0, "Out", "42"));
        Assert.Equal(2, Count(screen, 1, "Out", "42"));

        screen = await Enter("%autopx");
        Assert.Contains("%autopx on", screen, StringComparison.Ordinal);
        await Enter("var y = x + 1;");
        screen = await Enter("y * 10");
        Assert.Equal(1, Count(screen, 0, "Out", "220"));
        Assert.Equal(1, Count(screen, 1, "Out", "220"));
        screen = await Enter("%autopx");
        Assert.Contains("%autopx off", screen, StringComparison.Ordinal);

        // Off again: this runs in the console itself, where x was never defined.
        screen = await Enter("\"local \" + (40 + 2)");
        Assert.Matches(LocalOut("local 42"), screen);
        Assert.Equal(0, Count(screen, 0, "Out", "local 42"));

        // A lambda typed here ships as a delegate task (the input's in-memory image goes with it), with the values of
        // the console's variables it reads, taken when it ships.
        screen = await Enter("string.Join(\",\", await tc.MapAsync((int x) => x * x, Enumerable.Range(0, 5)))");
        Assert.Matches(LocalOut("0,1,4,9,16"), screen);
        await Enter("var offset = 7;");
        screen = await Enter("(await tc.GetResultAsync(await tc.RunAsync(DelegateTask.Of((int x) => x + offset, 1)))).Get<int>()");
        Assert.Matches(LocalOut("8"), screen);
        await Enter("offset = 9;");
        screen = await Enter("(await tc.GetResultAsync(await tc.RunAsync(DelegateTask.Of((int x) => x + offset, 1)))).Get<int>()");
        Assert.Matches(LocalOut("10"), screen);
        // A delegate held in a console variable ships with the lambda calling it, with the variables it reads itself.
        await Enter("Func<int, int> cube = v => v * v * v + offset;");
        screen = await Enter("string.Join(\",\", await tc.MapAsync((int x) => cube(x) + 1, new[] { 2, 3 }))");
        Assert.Matches(LocalOut("18,37"), screen);

        screen = await Enter("%result");
        Assert.Equal(2, Count(screen, 0, "Out", "220"));
        Assert.Equal(2, Count(screen, 1, "Out", "220"));
        screen = await Enter("%result 2");
        Assert.Contains("[0] In [2]: x * 2", screen, StringComparison.Ordinal);
        Assert.Contains("[1] In [2]: x * 2", screen, StringComparison.Ordinal);

        screen = await Enter("%px throw new InvalidOperationException(\"boom\");");
        Assert.Contains("[0] Error: System.InvalidOperationException at line 1", screen, StringComparison.Ordinal);
        Assert.Contains("[1] Error: System.InvalidOperationException at line 1", screen, StringComparison.Ordinal);
        Assert.Contains(": boom", screen, StringComparison.Ordinal);
        screen = await Enter("%px x + 1");
        Assert.Equal(1, Count(screen, 0, "Out", "22"));
        Assert.Equal(1, Count(screen, 1, "Out", "22"));

        // Ctrl-C stops the wait for a minute-long call and gives the prompt back at once.
        await terminal.TypeLineAsync("%px System.Threading.Thread.Sleep(60000);");
        await terminal.WaitForAsync(s => s.Contains("Waiting for engine(s) 0, 1", StringComparison.Ordinal), "the wait notice", StepTimeout);
        var clock = Stopwatch.StartNew();
        await terminal.PressAsync("C-c");
        var back = ++prompt;
        screen = await terminal.WaitForAsync(s => HasPrompt(s, back), "the prompt after Ctrl-C", StepTimeout);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"Ctrl-C took {clock.Elapsed} to give the prompt back");
        Assert.Contains("Interrupted: stopped waiting for engine(s) 0, 1", screen, StringComparison.Ordinal);
        screen = await Enter("6 * 7");
        Assert.Matches(LocalOut("42"), screen);

        // Ctrl-D leaves at once: the engines go on with the interrupted minute-long call, and leaving does not wait for it.
        await terminal.PressAsync("C-d");
        await terminal.WaitForAsync(s => s.Contains("Leaving; engine(s) 0, 1 go on with the last %px call.", StringComparison.Ordinal), "the goodbye after Ctrl-D", StepTimeout);
        clock.Restart();
        Assert.Equal(0, await terminal.WaitForExitAsync(StepTimeout));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the console took {clock.Elapsed} to exit after its goodbye");
    }

    [Fact]
    public async Task Console_ControllerKilled_PxShowsThatItTriesAgain_ThenSaysHowToRestartIt_AndCtrlCStopsTheWait()
    {
        await using var cluster = await StartClusterAsync(1);
        await using var terminal = await StartConsoleAsync(cluster);
        await terminal.WaitForAsync(s => HasPrompt(s, 1), "the banner and the first prompt", StepTimeout);
        var controllerAt = $"controller {ControllerLocation(cluster)} is not answering; trying again for 10 s";

        using (var controller = Process.GetProcessById(ControllerState.TryRead(cluster.Paths().SecurityFolder)!.Pid))
        {
            controller.Kill();
            await controller.WaitForExitAsync().WaitAsync(StepTimeout);
        }

        // While it tries, a line says so, and that Ctrl-C stops it; the outcome takes its place. The console tries for
        // ReconnectOptions.Interactive's 10 s; with the client's default 2 minutes the step's minute would run out first.
        await terminal.TypeLineAsync("%px 1");
        var trying = Flat(await terminal.WaitForAsync(s => Flat(s).Contains(controllerAt, StringComparison.Ordinal), "the line saying it tries again", StepTimeout));
        Assert.Contains(controllerAt + "... (Ctrl-C stops trying)", trying, StringComparison.Ordinal);
        var screen = Flat(await terminal.WaitForAsync(s => HasPrompt(s, 2), "the prompt after %px with the controller down", StepTimeout));
        Assert.Contains("has been out of reach for 10 s", screen, StringComparison.Ordinal);
        Assert.Contains("`capcluster status`", screen, StringComparison.Ordinal);
        Assert.Contains("`capcontroller --reuse`", screen, StringComparison.Ordinal);
        Assert.DoesNotContain(" at CapCluster.", screen, StringComparison.Ordinal);
        Assert.DoesNotContain(controllerAt, screen, StringComparison.Ordinal);

        // Ctrl-C while it tries stops trying: the prompt comes back without the 10 s verdict.
        await terminal.TypeLineAsync("%px 2");
        await terminal.WaitForAsync(s => Flat(s).Contains(controllerAt, StringComparison.Ordinal), "the line saying it tries again, once more", StepTimeout);
        await terminal.PressAsync("C-c");
        screen = Flat(await terminal.WaitForAsync(s => HasPrompt(s, 3), "the prompt after Ctrl-C", StepTimeout));
        Assert.Contains("Interrupted.", screen, StringComparison.Ordinal);
        Assert.Equal(1, Regex.Count(screen, "has been out of reach for 10 s"));
        Assert.DoesNotContain(controllerAt, screen, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Console_WithATaskCapabilityOnly_RunsTasksOnTc_AndTheEngineMagicsSayItHoldsNoMultiEngineCapability()
    {
        await using var cluster = await StartClusterAsync(1);
        var taskCap = Path.Combine(Directory.CreateDirectory(Path.Combine(cluster.BaseFolder, "given")).FullName, "task.cap");
        File.Copy(cluster.CapFile(CapabilityInterfaces.Task), taskCap);

        await using var terminal = await StartConsoleAsync(cluster, "--cap-file", taskCap);
        var screen = Flat(await terminal.WaitForAsync(s => HasPrompt(s, 1), "the banner and the first prompt", StepTimeout));
        Assert.Contains("a task capability: tc is ready, mec is null", screen, StringComparison.Ordinal);

        await terminal.TypeLineAsync("%px 1");
        screen = Flat(await terminal.WaitForAsync(s => HasPrompt(s, 2), "the prompt after %px", StepTimeout));
        Assert.Contains("this console holds no MultiEngine capability", screen, StringComparison.Ordinal);
        Assert.Contains("furlgen attenuate", screen, StringComparison.Ordinal);

        await terminal.TypeLineAsync("string.Join(\",\", await tc.MapAsync((int x) => x * x, Enumerable.Range(0, 4)))");
        screen = await terminal.WaitForAsync(s => HasPrompt(s, 3), "the prompt after a map on tc", StepTimeout);
        Assert.Matches(LocalOut("0,1,4,9"), screen);

        await terminal.PressAsync("C-d");
        Assert.Equal(0, await terminal.WaitForExitAsync(StepTimeout));
    }

    private static async Task<ClusterDirectory> StartClusterAsync(int engines)
    {
        var cluster = new ClusterDirectory();
        var start = await cluster.RunAsync("capcluster", "start", "-n", $"{engines}");
        if (start.ExitCode != 0)
        {
            await cluster.DisposeAsync();
            Assert.Fail(start.ToString());
        }

        return cluster;
    }

    /// <summary>The controller's client address, host:port, as its multiengine.cap names it.</summary>
    private static string ControllerLocation(ClusterDirectory cluster) =>
        string.Join(", ", CapabilityFile.Read(cluster.CapFile(CapabilityInterfaces.MultiEngine)).Url.Locations);

    private static Task<TmuxTerminal> StartConsoleAsync(ClusterDirectory cluster, params string[] arguments) =>
        TmuxTerminal.StartAsync(Repository.App("capcluster"), ["console", .. arguments], new Dictionary<string, string> { ["CAPCLUSTER_DIR"] = cluster.BaseFolder });

    private static bool HasPrompt(string screen, int number) =>
        screen.Split('\n').Any(l => l.StartsWith($"In [{number}]:", StringComparison.Ordinal) || l.StartsWith($"[px] In [{number}]:", StringComparison.Ordinal));

    private static int Count(string screen, int engine, string label, string value) =>
        Regex.Matches(screen, $@"^\[{engine}\] {label}\[\d+\]: {Regex.Escape(value)}\s*$", RegexOptions.Multiline).Count;

    /// <summary>The screen with the console's line wrapping undone, for a long message's phrases.</summary>
    private static string Flat(string screen) => Regex.Replace(screen, @"\s+", " ");

    private static Regex LocalOut(string value) => new($@"^Out\[\d+\]: {Regex.Escape(value)}\s*$", RegexOptions.Multiline);
}

using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

public sealed class LauncherTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Start_FourEngines_ClientGetsIdsAndStatusListsThem()
    {
        await using var cluster = new ClusterDirectory();

        var start = await cluster.RunAsync("capcluster", "start", "-n", "4");
        Assert.True(start.ExitCode == 0, start.ToString());
        Assert.Contains("Engines registered: 4/4", start.Output);
        Assert.Contains("MultiEngineClient.ConnectAsync", start.Output);

        await using var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        Assert.Equal([0, 1, 2, 3], await client.GetIdsAsync().WaitAsync(Timeout));
        Assert.Equal([0, 1, 2, 3], await client.PingAsync().WaitAsync(Timeout));

        var status = await cluster.RunAsync("capcluster", "status");
        Assert.True(status.ExitCode == 0, status.ToString());
        var engines = await client.GetEnginesAsync().WaitAsync(Timeout);
        Assert.Equal(4, engines.Count);
        foreach (var engine in engines)
        {
            Assert.Contains(engine.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), status.Output);
        }

        Assert.Contains("4 engine(s)", status.Output);

        var controllerLog = await cluster.RunAsync("capcluster", "logs");
        Assert.True(controllerLog.ExitCode == 0, controllerLog.ToString());
        Assert.Contains("Engine 3 registered", controllerLog.Output);
        var engineLog = await cluster.RunAsync("capcluster", "logs", "--engine", "2");
        Assert.Contains($"capengine-{engines.Single(e => e.Id == 2).Pid}.log", engineLog.Output);
        Assert.Contains("Registered as engine 2", engineLog.Output);

        var stop = await cluster.RunAsync("capcluster", "stop");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Contains("Stopped the controller", stop.Output);
        foreach (var engine in engines)
        {
            Assert.False(IsAlive(engine.Pid), $"engine pid {engine.Pid} still runs after stop");
        }

        var after = await cluster.RunAsync("capcluster", "status");
        Assert.Equal(1, after.ExitCode);
        Assert.Contains("No controller is running", after.Output);
    }

    [Fact]
    public async Task AfterTheControllerIsKilled_StatusAndStartSayToRestartItWithReuse_NotToStartAnother_AndStopEndsItsEngines()
    {
        await using var cluster = new ClusterDirectory();
        var start = await cluster.RunAsync("capcluster", "start", "-n", "2");
        Assert.True(start.ExitCode == 0, start.ToString());
        var controller = ControllerState.TryRead(cluster.Paths().SecurityFolder)!.Pid;
        await using (var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout))
        {
            Assert.Equal(2, (await client.GetIdsAsync().WaitAsync(Timeout)).Count);
        }

        using (var killed = System.Diagnostics.Process.GetProcessById(controller))
        {
            killed.Kill();
            await killed.WaitForExitAsync().WaitAsync(Timeout);
        }

        var status = await cluster.RunAsync("capcluster", "status");
        var again = await cluster.RunAsync("capcluster", "start", "-n", "2");
        var stop = await cluster.RunAsync("capcluster", "stop");

        foreach (var refused in new[] { status, again })
        {
            Assert.True(refused.ExitCode == 2, refused.ToString());
            Assert.Contains($"the controller of the default profile (pid {controller}) is no longer running, but 2 of the engine processes started with it are", refused.Error, StringComparison.Ordinal);
            Assert.Contains("Restart it on the same ports with `capcontroller --reuse`", refused.Error, StringComparison.Ordinal);
        }

        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Contains("Stopped 2 engine(s) left without a controller.", stop.Output, StringComparison.Ordinal);
        Assert.Contains("No controller is running", (await cluster.RunAsync("capcluster", "status")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_LocalEngines_SayTheyRegisteredThemselves_SoStartMakesNoConnectionToTheController()
    {
        await using var cluster = new ClusterDirectory();

        var start = await cluster.RunAsync("capcluster", "start", "-n", "2");
        Assert.True(start.ExitCode == 0, start.ToString());
        Assert.Contains("Engines registered: 2/2", start.Output);

        // Each engine wrote its id on the pipe once the controller confirmed it, and start returned on that: by then
        // the controller has both registrations, and start never called it with the multiengine capability.
        var multiEngine = CapabilityFile.Read(cluster.CapFile(CapabilityInterfaces.MultiEngine)).CapabilityId;
        var audit = AuditLog.ReadAll(cluster.Paths().AuditLogFile);
        Assert.DoesNotContain(audit, r => r.CapabilityId == multiEngine && r.Method != "issue");
        await using var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        Assert.Equal([0, 1], await client.GetIdsAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Start_TheControllerRunsWithoutTheSystemTrustStore_EnginesKeepIt_AndBothTalkTls()
    {
        await using var cluster = new ClusterDirectory();

        var start = await cluster.RunAsync("capcluster", "start", "-n", "1");
        Assert.True(start.ExitCode == 0, start.ToString());

        var controller = ControllerState.TryRead(cluster.Paths().SecurityFolder)!.Pid;
        Assert.Contains("SSL_CERT_FILE=/dev/null", EnvironmentOf(controller));
        await using var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        var engine = Assert.Single(await client.GetEnginesAsync().WaitAsync(Timeout));
        Assert.DoesNotContain("SSL_CERT_FILE=/dev/null", EnvironmentOf(engine.Pid));
        Assert.Equal(["2"], (await client.ExecuteAsync("1 + 1").GetAsync(Timeout)).Select(r => r.ValueText));
        Assert.Equal(0, (await cluster.RunAsync("capcluster", "stop")).ExitCode);
    }

    private static string[] EnvironmentOf(int pid) => File.ReadAllText($"/proc/{pid}/environ").Split('\0');

    [Fact]
    public async Task Stop_CountsEachEngineOnce_WhileTheControllersStopOfThemIsStillUnderWay()
    {
        await using var cluster = new ClusterDirectory();
        var start = await cluster.RunAsync("capcluster", "start", "-n", "2");
        Assert.True(start.ExitCode == 0, start.ToString());

        var stop = await cluster.RunAsync("capcluster", "stop");

        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Contains("and 2 engine(s).", stop.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_WhereNothingEverRan_SaysSoInsteadOfFailing()
    {
        await using var cluster = new ClusterDirectory();

        var stop = await cluster.RunAsync("capcluster", "stop");

        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Contains("No controller is running", stop.Output);
        Assert.Empty(stop.Error);
    }

    [Fact]
    public async Task Console_IsItsOwnProgram_GetsTheProfile_AndSaysWhenNoControllerRuns()
    {
        await using var cluster = new ClusterDirectory();

        var console = await cluster.RunAsync("capcluster", "--profile", "lab", "console");

        Assert.True(console.ExitCode == 2, console.ToString());
        Assert.Contains("capcluster console: no controller is running for profile lab", console.Error, StringComparison.Ordinal);
        Assert.Contains("capcluster start -n 4 --profile lab", console.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("1e9")]
    public async Task Start_WithATimeoutItCannotWait_IsRefusedBeforeAnythingStarts_NotAStackTrace(string seconds)
    {
        await using var cluster = new ClusterDirectory();

        var start = await cluster.RunAsync("capcluster", "start", "-n", "1", "--timeout", seconds);

        Assert.True(start.ExitCode == 2, start.ToString());
        Assert.Contains("capcluster start: --timeout ", start.Error, StringComparison.Ordinal);
        Assert.Contains(": the seconds to wait for the engines must be more than 0 and at most 604800 (a week)", start.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", start.Error + start.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cluster.Paths().SecurityFolder, "controller.json")));
    }

    [Theory]
    [InlineData("status")]
    [InlineData("console")]
    public async Task AProfileNameThatIsAPath_IsAUsageError_NotAStackTrace(string command)
    {
        await using var cluster = new ClusterDirectory();

        var run = await cluster.RunAsync("capcluster", "--profile", "../elsewhere", command);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("--profile '../elsewhere': a profile name is one folder name", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", run.Error + run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_TwoProfilesOnRandomPorts_RunSideBySide()
    {
        await using var cluster = new ClusterDirectory();

        var first = await cluster.RunAsync("capcluster", "start", "-n", "1", "--profile", "a");
        var second = await cluster.RunAsync("capcluster", "start", "-n", "2", "--profile", "b");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(second.ExitCode == 0, second.ToString());

        var a = ControllerState.TryRead(cluster.Paths("a").SecurityFolder)!;
        var b = ControllerState.TryRead(cluster.Paths("b").SecurityFolder)!;
        Assert.NotEqual(a.ClientPort, b.ClientPort);
        Assert.NotEqual(a.Pid, b.Pid);

        await using var clientA = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine, "a")).WaitAsync(Timeout);
        await using var clientB = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine, "b")).WaitAsync(Timeout);
        Assert.Equal([0], await clientA.GetIdsAsync().WaitAsync(Timeout));
        Assert.Equal([0, 1], await clientB.GetIdsAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Start_WhileRunning_RefusesAndNamesTheRunningController()
    {
        await using var cluster = new ClusterDirectory();
        var first = await cluster.RunAsync("capcluster", "start", "-n", "0");
        Assert.True(first.ExitCode == 0, first.ToString());
        var pid = ControllerState.TryRead(cluster.Paths().SecurityFolder)!.Pid;

        var second = await cluster.RunAsync("capcluster", "start", "-n", "1");

        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains($"already running (pid {pid})", second.Error);
    }

    [Fact]
    public async Task Start_WhenEnginesDoNotRegisterInTime_FailsNamingAnEngineLogAndStopsWhatItStarted()
    {
        await using var cluster = new ClusterDirectory();

        await UseEnginesThatNeverRegisterAsync(cluster);

        var start = await cluster.RunAsync("capcluster", "start", "-n", "2", "--timeout", "1");

        Assert.NotEqual(0, start.ExitCode);
        Assert.Matches(@"capengine-\d+\.log", start.Error);
        var state = ControllerState.TryRead(cluster.Paths().SecurityFolder);
        Assert.NotNull(state);
        Assert.False(IsAlive(state.Pid), "the controller of a failed start is still running");
    }

    [Fact]
    public async Task Start_WhenAnEngineExitsBeforeRegistering_FailsAtOnceWithItsOutput()
    {
        await using var cluster = new ClusterDirectory();

        // The launcher sees the exit when it happens: its timeout (ten minutes) is far beyond the 90 s this test waits.
        var bin = Directory.CreateDirectory(Path.Combine(cluster.BaseFolder, "bin")).FullName;
        var failingEngine = Path.Combine(bin, "capengine");
        await File.WriteAllTextAsync(failingEngine, "#!/bin/sh\necho 'no engine here' >&2\nexit 7\n");
        File.SetUnixFileMode(failingEngine, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        cluster.Environment["CAPCLUSTER_BIN"] = bin;

        var start = await cluster.RunAsync("capcluster", "start", "-n", "2", "--timeout", "600");

        Assert.NotEqual(0, start.ExitCode);
        Assert.Contains("exited with code 7 before its engines registered: no engine here", start.Error);
        var state = ControllerState.TryRead(cluster.Paths().SecurityFolder);
        Assert.NotNull(state);
        Assert.False(IsAlive(state.Pid), "the controller of a failed start is still running");
    }

    [Fact]
    public async Task Start_WhenTheControllerDiesAfterItWasReady_FailsAtOnceNamingIt_InsteadOfWaitingForEngines()
    {
        await using var cluster = new ClusterDirectory();
        await UseEnginesThatNeverRegisterAsync(cluster);

        // Engines that never register, a timeout of ten minutes, and the controller killed once it wrote its state.
        var starting = cluster.RunAsync("capcluster", "start", "-n", "2", "--timeout", "600");
        ControllerState? state;
        while ((state = ControllerState.TryRead(cluster.Paths().SecurityFolder)) is null)
        {
            Assert.False(starting.IsCompleted, "start ended before the controller was ready");
            await Task.Delay(50);
        }

        System.Diagnostics.Process.GetProcessById(state.Pid).Kill();
        var start = await starting.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.NotEqual(0, start.ExitCode);
        Assert.Contains($"capcontroller process {state.Pid} exited with code", start.Error);
    }

    /// <summary>Engines that run but never register: the launcher takes capengine from CAPCLUSTER_BIN first.</summary>
    private static async Task UseEnginesThatNeverRegisterAsync(ClusterDirectory cluster)
    {
        var bin = Directory.CreateDirectory(Path.Combine(cluster.BaseFolder, "bin")).FullName;
        var silentEngine = Path.Combine(bin, "capengine");
        await File.WriteAllTextAsync(silentEngine, "#!/bin/sh\nexec sleep 120\n");
        File.SetUnixFileMode(silentEngine, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        cluster.Environment["CAPCLUSTER_BIN"] = bin;
    }

        // A process that exited but is not reaped yet (its parent, capcluster start, is gone) runs no more.
    private static bool IsAlive(int pid) => LiveProcess.IsRunning(pid, "capengine", "capcontroller");
}

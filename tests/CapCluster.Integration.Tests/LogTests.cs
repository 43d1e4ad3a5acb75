using System.Diagnostics;
using System.Text.Json;
using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;
using CapCluster.Tests.Shared;
using Microsoft.Extensions.Logging;
using TaskStatus = CapCluster.Client.TaskStatus;

namespace CapCluster.Integration.Tests;

/// <summary>Component logs in compact JSON lines (<c>--log-format json</c>, the default), read from a real controller's file.</summary>
public sealed class LogTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    // An event is in the file within milliseconds of happening (the file sink is not buffered).
    private static readonly TimeSpan LogWait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task JsonLog_HasACompactJsonLineForEachEngineRegistration_WithTheEnginesIdAndPid()
    {
        await using var cluster = await RunningCluster.StartAsync(2, "--log-format", "json");
        var engines = await cluster.Client.GetEnginesAsync().WaitAsync(Timeout);
        var file = ControllerLog(cluster);
        var controllerPid = int.Parse(Path.GetFileNameWithoutExtension(file)["capcontroller-".Length..], System.Globalization.CultureInfo.InvariantCulture);

        foreach (var engine in engines)
        {
            var registered = await WaitForEventAsync(file, e => EventName(e) == "EngineRegistered" && e.GetProperty("EngineId").GetInt32() == engine.Id);

            Assert.Equal("Engine {EngineId} registered from {Peer} (host {Host}, pid {EnginePid})", registered.GetProperty("@mt").GetString());
            Assert.Equal(engine.Pid, registered.GetProperty("EnginePid").GetInt32());
            Assert.Contains("127.0.0.1:", registered.GetProperty("Peer").GetString(), StringComparison.Ordinal);
            Assert.Equal("capcontroller", registered.GetProperty("Component").GetString());
            Assert.Equal(controllerPid, registered.GetProperty("Pid").GetInt32());
            Assert.InRange(registered.GetProperty("@t").GetDateTimeOffset(), DateTimeOffset.UtcNow - Timeout, DateTimeOffset.UtcNow);
        }
    }

    [Fact]
    public async Task TaskRetryAndTimeout_AreInTheControllersLog_WithTheTaskIdAndOwner()
    {
        await using var cluster = await RunningCluster.StartAsync(1);
        var capFile = cluster.Directory.CapFile(CapabilityInterfaces.Task);
        var owner = CapabilityFile.Read(capFile).CapabilityId;
        await using var tasks = await TaskClient.ConnectAsync(capFile).WaitAsync(Timeout);

        var failing = await tasks.RunAsync(new CodeTask("throw new InvalidOperationException(\"a secret the log must not show\");") { Retries = 1 });
        var outcome = await tasks.GetResultAsync(failing, timeout: Timeout);
        Assert.Equal(TaskStatus.Failed, outcome.Status);
        Assert.Equal(2, outcome.Attempts);

        var file = ControllerLog(cluster);
        var retry = await WaitForEventAsync(file, e => EventName(e) == "Retrying" && e.GetProperty("TaskId").GetInt64() == failing);
        Assert.Equal(owner, retry.GetProperty("Owner").GetString());
        Assert.Equal(outcome.EngineId, retry.GetProperty("EngineId").GetInt32());
        Assert.Equal(1, retry.GetProperty("Attempt").GetInt32());
        Assert.Equal("raised System.InvalidOperationException", retry.GetProperty("Reason").GetString());
        Assert.Equal("Warning", retry.GetProperty("@l").GetString());
        var failed = await WaitForEventAsync(file, e => EventName(e) == "Failed" && e.GetProperty("TaskId").GetInt64() == failing);
        Assert.Equal(2, failed.GetProperty("Attempts").GetInt32());
        Assert.DoesNotContain("a secret the log must not show", File.ReadAllText(file), StringComparison.Ordinal);
        Assert.DoesNotContain(CapabilityFile.Read(capFile).Url.Secret, File.ReadAllText(file), StringComparison.Ordinal);

        var slow = await tasks.RunAsync(new CodeTask("System.Threading.Thread.Sleep(3000);") { Timeout = TimeSpan.FromMilliseconds(300) });
        Assert.Equal(TaskStatus.Failed, (await tasks.GetResultAsync(slow, timeout: Timeout)).Status);
        var timedOut = await WaitForEventAsync(file, e => EventName(e) == "TimedOut" && e.GetProperty("TaskId").GetInt64() == slow);
        Assert.Equal(owner, timedOut.GetProperty("Owner").GetString());
        Assert.Equal(0.3, timedOut.GetProperty("TimeoutSeconds").GetDouble());
    }

    [Fact]
    public async Task EngineKilledUnderATask_ItsBatchLossAndTheRetryAreInTheControllersLog_AndTheTaskRunsAgainElsewhere()
    {
        await using var cluster = await RunningCluster.StartAsync(1);
        var capFile = cluster.Directory.CapFile(CapabilityInterfaces.Task);
        await using var tasks = await TaskClient.ConnectAsync(capFile).WaitAsync(Timeout);
        var first = (await cluster.Client.GetEnginesAsync().WaitAsync(Timeout)).Single();

        // The first attempt marks that it started, then runs until its engine is killed; the retry finds the mark and ends.
        var mark = Path.Combine(cluster.Directory.BaseFolder, "started-" + Guid.NewGuid().ToString("N"));
        var code = $"if (!System.IO.File.Exists(@\"{mark}\")) {{ System.IO.File.WriteAllText(@\"{mark}\", \"\"); System.Threading.Thread.Sleep(600_000); }} var done = 1;";
        var id = await tasks.RunAsync(new CodeTask(code) { Retries = 1, Pull = ["done"] }).WaitAsync(Timeout);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(mark))
        {
            Assert.True(clock.Elapsed < Timeout, "the task never started");
            await Task.Delay(50);
        }

        using (var engine = Process.GetProcessById(first.Pid))
        {
            engine.Kill();
            await engine.WaitForExitAsync().WaitAsync(Timeout);
        }

        var file = ControllerLog(cluster);
        var lost = await WaitForEventAsync(file, e => EventName(e) == "BatchLost");
        Assert.Equal(first.Id, lost.GetProperty("EngineId").GetInt32());
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), lost.GetProperty("TaskIds").GetString());
        var retry = await WaitForEventAsync(file, e => EventName(e) == "Retrying" && e.GetProperty("TaskId").GetInt64() == id);
        Assert.Equal(first.Id, retry.GetProperty("EngineId").GetInt32());
        Assert.Contains($"engine {first.Id}", retry.GetProperty("Reason").GetString(), StringComparison.Ordinal);

        cluster.Directory.Start("capengine");
        var outcome = await tasks.GetResultAsync(id, timeout: Timeout);
        Assert.Equal(TaskStatus.Succeeded, outcome.Status);
        Assert.Equal(2, outcome.Attempts);
        Assert.NotEqual(first.Id, outcome.EngineId);
    }

    [Fact]
    public async Task Client_ControllerKilledAndRestarted_LogsTheLossTheAttemptsAndTheReconnection_ThroughItsLoggerFactory()
    {
        await using var cluster = new ClusterDirectory();
        var ports = ClusterDirectory.PinnedPorts();
        var controller = await cluster.StartControllerAsync(ports);
        var logs = new ListLoggerFactory();
        var reconnect = new ReconnectOptions { Timeout = Timeout, LoggerFactory = logs };
        var meCap = cluster.CapFile(CapabilityInterfaces.MultiEngine);
        var taskCap = cluster.CapFile(CapabilityInterfaces.Task);
        await using var engines = await MultiEngineClient.ConnectAsync(meCap, reconnect).WaitAsync(Timeout);
        await using var tasks = await TaskClient.ConnectAsync(taskCap, reconnect).WaitAsync(Timeout);
        // No engine: the task stays queued, journaled, and its result awaited across the restart.
        var queued = await tasks.RunAsync(new CodeTask("var y = 1;")).WaitAsync(Timeout);
        var awaited = tasks.GetResultAsync(queued);

        controller.Process.Kill();
        await controller.Process.WaitForExitAsync().WaitAsync(Timeout);
        var taskCapId = CapabilityFile.Read(taskCap).CapabilityId;
        var lost = await logs.WaitForAsync(e => e.Name == "TaskStreamLost", LogWait);
        Assert.Equal(taskCapId, lost["CapabilityId"]);
        Assert.Equal(LogLevel.Warning, lost.Level);
        Assert.Equal("CapCluster.Client", lost.Category);

        var meCapId = CapabilityFile.Read(meCap).CapabilityId;
        var ids = engines.GetIdsAsync();
        var unreachable = await logs.WaitForAsync(e => e.Name == "Unreachable" && (string?)e["CapabilityId"] == meCapId, LogWait);
        Assert.Equal(Timeout, unreachable["Timeout"]);
        Assert.Equal("CapCluster.Connection", unreachable.Category);

        await cluster.StartControllerAsync(ports);
        Assert.Empty(await ids.WaitAsync(Timeout));
        await logs.WaitForAsync(e => e.Name == "Reconnected" && (string?)e["CapabilityId"] == meCapId, LogWait);
        var reopened = await logs.WaitForAsync(e => e.Name == "TaskStreamReopened", LogWait);
        Assert.Equal(taskCapId, reopened["CapabilityId"]);
        Assert.Equal(1, reopened["Awaited"]);
        Assert.False(awaited.IsCompleted);
        Assert.DoesNotContain(logs.Events, e => e.Message.Contains(CapabilityFile.Read(meCap).Url.Secret, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("capcontroller")]
    [InlineData("capengine")]
    [InlineData("capcluster", "start")]
    public async Task ABadLogFormat_IsOneLineNamingTheOptionAndTheChoices_AndStartsNothing(string program, params string[] command)
    {
        await using var cluster = new ClusterDirectory();

        var result = await cluster.RunAsync(program, [.. command, "--log-format", "xml"]);

        Assert.Equal(2, result.ExitCode);
        var name = command.Length == 0 ? program : $"{program} {command[0]}";
        Assert.Equal($"{name}: --log-format xml: not a log format; choose json or text", result.Error.Trim());
        Assert.False(Directory.Exists(cluster.Paths().LogFolder) && Directory.EnumerateFiles(cluster.Paths().LogFolder).Any());
    }

    private static string ControllerLog(RunningCluster cluster) =>
        Directory.GetFiles(cluster.Directory.Paths().LogFolder, "capcontroller-*.log").Single();

    private static string? EventName(JsonElement e) =>
        e.TryGetProperty("EventId", out var id) && id.TryGetProperty("Name", out var name) ? name.GetString() : null;

    /// <summary>
    /// The first event of the file that matches, once the controller has written it. Every line must be one JSON
    /// object: a line of any other format fails the test.
    /// </summary>
    private static async Task<JsonElement> WaitForEventAsync(string file, Func<JsonElement, bool> match)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            foreach (var line in File.ReadAllLines(file))
            {
                using var json = JsonDocument.Parse(line);
                if (match(json.RootElement))
                {
                    return json.RootElement.Clone();
                }
            }

            if (clock.Elapsed > LogWait)
            {
                throw new TimeoutException($"no such event in {file} within {LogWait}:\n{File.ReadAllText(file)}");
            }

            await Task.Delay(50);
        }
    }
}

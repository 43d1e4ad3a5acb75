using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Interactive.Tests.Jupyter;

/// <summary>
/// A notebook run by Jupyter whose controller goes away and comes back between cells: the notebook's own cells kill it
/// and start it again on its pinned ports, so that the kernel, its extension and its client live on throughout.
/// </summary>
[Collection(JupyterTools.Collection)]
public sealed class ControllerDownNotebookTests
{
    [Fact]
    public async Task PxWithTheControllerDown_FailsTheCellSayingWhichControllerAndHowToStartIt_AndWorksAgainOnceItIsBack()
    {
        await using var cluster = new ClusterDirectory();
        var ports = ClusterDirectory.PinnedPorts();
        var first = await cluster.StartControllerAsync(ports);
        cluster.Start("capengine");
        var capFile = cluster.CapFile(CapabilityInterfaces.MultiEngine);
        var controllerAt = string.Join(", ", CapabilityFile.Read(capFile).Url.Locations);

        // The cells that stop and start the controller are C# of the notebook's own kernel; starting it waits for its
        // ready line and then for the engine to register again, through a client of its own (not mec, which is tested).
        var controller = Quoted(Repository.App("capcontroller"));
        var arguments = string.Join(", ", ports.Select(Quoted));
        var helpers = string.Join('\n',
            "using System.Diagnostics;",
            "using CapCluster.Client;",
            "static void Kill(Process controller) { controller.Kill(); controller.WaitForExit(); }",
            "async Task<Process> StartControllerAsync()",
            "{",
            $"    var info = new ProcessStartInfo({controller}, new[] {{ {arguments} }}) {{ RedirectStandardOutput = true, RedirectStandardError = true }};",
            "    var ready = new TaskCompletionSource();",
            "    var started = new Process { StartInfo = info, EnableRaisingEvents = true };",
            "    started.OutputDataReceived += (_, e) => { if (e.Data?.Contains(\"ready\") == true) ready.TrySetResult(); };",
            "    started.ErrorDataReceived += (_, _) => { };",
            "    started.Exited += (_, _) => ready.TrySetException(new InvalidOperationException(\"capcontroller exited\"));",
            "    started.Start();",
            "    started.BeginOutputReadLine();",
            "    started.BeginErrorReadLine();",
            "    await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));",
            $"    await using var probe = await MultiEngineClient.ConnectAsync({Quoted(capFile)});",
            "    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);",
            "    while ((await probe.GetIdsAsync()).Count == 0 && DateTime.UtcNow < deadline) { await Task.Delay(50); }",
            "    return started;",
            "}");
        var notebook = NotebookFile.WithExtension(
            helpers,
            $"Kill(Process.GetProcessById({first.Process.Id}));",
            "!raises\n#!px\n1 + 1",
            "var restarted = await StartControllerAsync();",
            "#!px\nvar x = 21;\nx * 2",
            "Kill(restarted);",
            "!raises\n#!px\nx + 1",
            "restarted = await StartControllerAsync();",
            "#!px\nx + 1",
            "Kill(restarted);");
        NotebookFile run;
        try
        {
            run = notebook.RunIn(cluster.BaseFolder, "controller-down");
        }
        finally
        {
            // A run that failed between a restart and the last cell leaves a controller the kernel started.
            StopRestartedController(cluster, first.Process.Id);
        }

        Assert.Empty(run.UnexpectedErrors());
        // Cell 3 runs before any connection; cell 7 on a client that was connected when its controller went away.
        foreach (var cell in new[] { 3, 7 })
        {
            var error = run.Shown(cell, "error");
            Assert.StartsWith("#!px: ", error, StringComparison.Ordinal);
            Assert.Contains($"the controller at {controllerAt}", error, StringComparison.Ordinal);
            Assert.Contains(capFile, error, StringComparison.Ordinal);
            Assert.Contains("is not answering", error, StringComparison.Ordinal);
            Assert.Contains("capcluster start", error, StringComparison.Ordinal);
            Assert.Contains("run the cell again", error, StringComparison.Ordinal);
            Assert.DoesNotContain("\n", error.Trim(), StringComparison.Ordinal);
            Assert.DoesNotMatch(@"(?m)^\s*at [\w.`]+[.(]", run.Shown(cell, "traceback"));
        }

        Assert.Matches(NotebookFile.Out(0, "42"), run.Shown(5));
        Assert.Matches(NotebookFile.Out(0, "22"), run.Shown(9));
    }

    private static void StopRestartedController(ClusterDirectory cluster, int firstPid)
    {
        if (ControllerState.TryReadPid(cluster.Paths().SecurityFolder) is not { } pid || pid == firstPid)
        {
            return;
        }

        try
        {
            using var left = System.Diagnostics.Process.GetProcessById(pid);
            left.Kill();
            left.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (ArgumentException)
        {
            // Already gone: the last cell stopped it.
        }
    }

    private static string Quoted(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

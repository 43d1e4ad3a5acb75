using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

public sealed class CapabilityFileTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task CapFiles_AreOwnerOnly_AndWorkCopiedToAnotherFolder()
    {
        await using var cluster = new ClusterDirectory();
        await cluster.StartControllerAsync();

        foreach (var iface in CapabilityInterfaces.All)
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cluster.CapFile(iface)));
        }

        var elsewhere = Directory.CreateTempSubdirectory("capcluster-copy-").FullName;
        try
        {
            var engineCopy = Path.Combine(elsewhere, "engine.cap");
            var clientCopy = Path.Combine(elsewhere, "my-client.cap");
            var taskCopy = Path.Combine(elsewhere, "t.cap");
            File.Copy(cluster.CapFile(CapabilityInterfaces.Engine), engineCopy);
            File.Copy(cluster.CapFile(CapabilityInterfaces.MultiEngine), clientCopy);
            File.Copy(cluster.CapFile(CapabilityInterfaces.Task), taskCopy);

            // The copies alone are the whole set-up: the security folder is not consulted.
            cluster.Start("capengine", "--cap-file", engineCopy);
            await using var client = await MultiEngineClient.ConnectAsync(clientCopy).WaitAsync(Timeout);
            Assert.Equal([0], await ClusterDirectory.WaitForEnginesAsync(client, 1, Timeout));

            await using var tasks = await TaskClient.ConnectAsync(taskCopy).WaitAsync(Timeout);
            Assert.Equal(1, (await tasks.QueueStatusAsync().WaitAsync(Timeout)).Engines);
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Fact]
    public async Task MalformedCapFile_EngineExitsNamingTheFileAndProblem()
    {
        await using var cluster = new ClusterDirectory();
        var bad = Path.Combine(cluster.BaseFolder, "broken.cap");
        CapCluster.Tests.Shared.PrivateFile.Write(bad, "# not a capability\ncapcluster://nothing-here\n");

        var result = await cluster.RunAsync("capengine", "--cap-file", bad);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(bad, result.Error);
        Assert.Contains("malformed capability URL", result.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task EditedCapUrl_IsRejectedBeforeAnyConnection()
    {
        await using var cluster = new ClusterDirectory();
        await cluster.StartControllerAsync();
        var edited = Path.Combine(cluster.BaseFolder, "edited.cap");
        var text = await File.ReadAllTextAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine));
        var url = text.Split('\n').First(l => l.StartsWith("capcluster://", StringComparison.Ordinal));
        var fingerprint = url["capcluster://".Length..url.IndexOf('@', StringComparison.Ordinal)];
        var forged = fingerprint[..^1] + (fingerprint[^1] == 'a' ? 'b' : 'a');
        CapCluster.Tests.Shared.PrivateFile.Write(edited, text.Replace(fingerprint, forged, StringComparison.Ordinal));

        var error = await Assert.ThrowsAsync<CapabilityFileException>(() => MultiEngineClient.ConnectAsync(edited).WaitAsync(Timeout));

        Assert.Equal(edited, error.FilePath);
        Assert.Contains("fingerprint", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task NoCapFile_ClientErrorListsWhereItLooked()
    {
        await using var cluster = new ClusterDirectory();
        var missing = Path.Combine(cluster.BaseFolder, "nowhere", "multiengine.cap");

        var error = await Assert.ThrowsAsync<CapabilityNotFoundException>(() => MultiEngineClient.ConnectAsync(missing).WaitAsync(Timeout));

        Assert.Contains(missing, error.Message);
        Assert.Contains("capcluster start", error.Message);
    }

    [Fact]
    public async Task ControllerNotRunning_ClientSaysUnreachableWithAddressAndHint()
    {
        await using var cluster = new ClusterDirectory();
        var controller = await cluster.StartControllerAsync();
        var port = ControllerState.TryRead(cluster.Paths().SecurityFolder)!.ClientPort;
        controller.Terminate();
        await controller.Process.WaitForExitAsync().WaitAsync(Timeout);

        var error = await Assert.ThrowsAsync<ControllerUnreachableException>(
            () => MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout));

        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("`capcontroller --reuse`, and none is started with `capcluster start`", error.Message);
    }

    [Fact]
    public async Task ControllerKilledDuringACall_ClientSaysTheConnectionWasLost_NotThatItCannotReachIt()
    {
        await using var cluster = await RunningCluster.StartAsync(1);
        var call = cluster.Client.ExecuteAsync("System.Threading.Thread.Sleep(30_000);");
        await Task.Delay(500);

        using (var controller = System.Diagnostics.Process.GetProcessById(ControllerState.TryRead(cluster.Directory.Paths().SecurityFolder)!.Pid))
        {
            controller.Kill();
        }

        var error = await Assert.ThrowsAsync<ControllerUnreachableException>(() => call.GetAsync(Timeout));
        Assert.StartsWith("lost the connection to the controller at 127.0.0.1:", error.Message, StringComparison.Ordinal);
        Assert.Contains("revoked", error.Message);
        Assert.Contains("`capcluster status` says what still runs", error.Message);
        Assert.Contains("`capcontroller --reuse`", error.Message);
    }

    [Theory]
    [InlineData("engine")]
    [InlineData("client")]
    [InlineData("data")]
    public async Task PortInUse_ControllerExitsNamingThePortAndTheOption(string which)
    {
        await using var cluster = new ClusterDirectory();
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;

        var result = await cluster.RunAsync("capcontroller", $"--{which}-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"127.0.0.1:{port} for the {which} port: the port is already in use", result.Error);
        Assert.Contains($"--{which}-port", result.Error);
    }
}

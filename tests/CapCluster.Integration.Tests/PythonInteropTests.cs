using System.Diagnostics;
using System.Text.Json;
using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>A standard gRPC implementation (Debian's python3-grpcio) reaches the controller with only a .cap file.</summary>
public sealed class PythonInteropTests
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task PythonGrpcClient_WithMultiEngineCap_GetsIds_AndWithoutCertificateIsRefused()
    {
        await using var cluster = new ClusterDirectory();
        await cluster.StartControllerAsync();
        cluster.Start("capengine");
        cluster.Start("capengine");
        await using (var client = await MultiEngineClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout))
        {
            await ClusterDirectory.WaitForEnginesAsync(client, 2, Timeout);
        }

        var copy = Path.Combine(cluster.BaseFolder, "copied.cap");
        File.Copy(cluster.CapFile(CapabilityInterfaces.MultiEngine), copy);

        using var accepted = await RunPythonAsync(copy);
        Assert.Equal([0, 1], accepted.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));

        using var refused = await RunPythonAsync(copy, "--no-client-cert");
        Assert.Equal("UNAUTHENTICATED", refused.RootElement.GetProperty("code").GetString());
        Assert.Contains("no client certificate", refused.RootElement.GetProperty("details").GetString());
        Assert.Contains(AuditLog.ReadAll(cluster.Paths().AuditLogFile), r => r.Outcome == "refused" && r.Method == "GetIds");
    }

    private static async Task<JsonDocument> RunPythonAsync(params string[] arguments)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Python", "getids_client.py");
        var start = new ProcessStartInfo(Python, [script, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["GRPC_ENABLE_FORK_SUPPORT"] = "0";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Timeout);
        Assert.True(process.ExitCode == 0, $"python exited {process.ExitCode}: {await error}");
        return JsonDocument.Parse(await output);
    }
}

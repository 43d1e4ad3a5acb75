using System.Diagnostics;
using System.Text.Json;
using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Protocol;
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

    [Fact]
    public async Task PythonGrpcClient_ListsServicesThroughReflection_AndGetsServing_OnlyWithTheCapability()
    {
        await using var cluster = new ClusterDirectory();
        await cluster.StartControllerAsync();
        var cap = cluster.CapFile(CapabilityInterfaces.MultiEngine);

        using var listed = await RunScriptAsync("standard_services_client.py", cap, "reflection");
        var services = listed.RootElement.GetProperty("services").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("capcluster.v1.MultiEngine", services);
        Assert.Contains("capcluster.v1.TaskFarm", services);
        Assert.Contains("capcluster.v1.EngineLink", services);

        using var health = await RunScriptAsync("standard_services_client.py", cap, "health");
        Assert.Equal(1, health.RootElement.GetProperty("health").GetInt32()); // SERVING

        using var refusedList = await RunScriptAsync("standard_services_client.py", cap, "reflection", "--wrong-secret");
        Assert.Equal("UNAUTHENTICATED", refusedList.RootElement.GetProperty("code").GetString());
        using var refusedHealth = await RunScriptAsync("standard_services_client.py", cap, "health", "--wrong-secret");
        Assert.Equal("UNAUTHENTICATED", refusedHealth.RootElement.GetProperty("code").GetString());
        var audit = AuditLog.ReadAll(cluster.Paths().AuditLogFile);
        Assert.Contains(audit, r => r.Outcome == "refused" && r.Service == StandardServices.Health);
        Assert.Contains(audit, r => r.Outcome == "refused" && r.Service == StandardServices.Reflection);
    }

    [Fact]
    public async Task UnknownMethod_WithAValidCertificateButAWrongSecret_IsRefusedAndAudited_NotUnimplemented()
    {
        await using var cluster = new ClusterDirectory();
        await cluster.StartControllerAsync();
        var cap = cluster.CapFile(CapabilityInterfaces.MultiEngine);

        using var refused = await RunScriptAsync("standard_services_client.py", cap, "unknown", "--wrong-secret");
        Assert.Equal("UNAUTHENTICATED", refused.RootElement.GetProperty("code").GetString());
        Assert.Contains(AuditLog.ReadAll(cluster.Paths().AuditLogFile), r => r.Outcome == "refused" && r.Method == "NoSuchMethod");

        // With the right secret, the gate lets it through and gRPC answers that it does not exist.
        using var unknown = await RunScriptAsync("standard_services_client.py", cap, "unknown");
        Assert.Equal("UNIMPLEMENTED", unknown.RootElement.GetProperty("code").GetString());
    }

    private static Task<JsonDocument> RunPythonAsync(params string[] arguments) => RunScriptAsync("getids_client.py", arguments);

    private static async Task<JsonDocument> RunScriptAsync(string scriptName, params string[] arguments)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Python", scriptName);
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

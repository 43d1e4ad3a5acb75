using System.Security.Cryptography;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>
/// Client, controller and engine on one host: pushes and pulls travel on lanes through the kernel only (a Unix socket
/// the controller handed to the engine, no TLS), and every value arrives as it was sent, at every size boundary of
/// the lane's records up to 1 GiB. The audit says which path each lane took.
/// </summary>
public sealed class SameHostLaneTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    // The most data one lane record carries: 1 MiB less its 4-byte header and 16-byte tag (Record,
    // internal to the protocol assembly); local records are cut at the same size.
    private const int Record = (1024 * 1024) - 20;
    private RunningCluster cluster = null!;

    public async Task InitializeAsync() => cluster = await RunningCluster.StartAsync(1);

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task PushAndPull_AtEveryRecordBoundary_TakeTheKernelOnlyPath_AndArriveIntact()
    {
        var sizes = new Dictionary<string, int>
        {
            ["empty"] = 0,
            ["one"] = 1,
            ["page"] = 4096,
            ["record"] = Record,
            ["recordAndOne"] = Record + 1,
        };
        var values = sizes.ToDictionary(s => s.Key, s => RandomNumberGenerator.GetBytes(s.Value));

        // One push of all of them: together they are over the size at which the client takes a lane.
        await cluster.Client.PushAsync(values.ToDictionary(v => v.Key, v => (object?)v.Value)).GetAsync(Timeout);

        foreach (var (name, value) in values)
        {
            var pulled = await cluster.Client.PullAsync<byte[]>(name).GetAsync(Timeout);
            Assert.Equal(value, Assert.Single(pulled));
        }

        var lanes = AuditLog.ReadAll(cluster.Directory.Paths().AuditLogFile).Where(r => r.Method == "Lane" && r.Outcome == AuditRecord.Accepted).ToList();
        Assert.Equal("data lane to engine 0, handed to the engine, path=local", Assert.Single(lanes).Reason);
    }

    [Fact]
    public async Task OneGibibyte_PushedAndPulledBack_OnTheKernelOnlyPath_HasTheSameChecksum()
    {
        var data = GC.AllocateUninitializedArray<byte>(1 << 30);
        RandomNumberGenerator.Fill(data);
        var sent = SHA256.HashData(data);

        await cluster.Client.PushAsync("big", data).GetAsync(Timeout);
        data = null;
        var pulled = Assert.Single(await cluster.Client.PullAsync<byte[]>("big").GetAsync(Timeout));

        Assert.Equal(1 << 30, pulled.Length);
        Assert.Equal(Convert.ToHexString(sent), Convert.ToHexString(SHA256.HashData(pulled)));
        Assert.Contains(AuditLog.ReadAll(cluster.Directory.Paths().AuditLogFile),
            r => r.Method == "Lane" && r.Outcome == AuditRecord.Accepted && r.Reason == "data lane to engine 0, handed to the engine, path=local");
    }
}

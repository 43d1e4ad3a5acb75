using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;
using TaskStatus = CapCluster.Client.TaskStatus;

namespace CapCluster.Integration.Tests;

/// <summary>Aborts of tasks a real engine holds in a batch: those waiting behind others never run.</summary>
public sealed class TaskAbortTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private readonly ClusterDirectory cluster = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task AbortOfABatch_WhileItsFirstTaskRuns_TheOthersNeverRun_AndSaySo_TheFirstRanToItsEnd()
    {
        // Batches as large as the tasks ready, whatever the engine's last tasks took.
        await cluster.StartControllerAsync("--task-batch-time", "3600000");
        cluster.Start("capengine");
        await using var tasks = await TaskClient.ConnectAsync(cluster.CapFile(CapabilityInterfaces.Task)).WaitAsync(Timeout);
        // An engine's first batch holds one task, until it answered one.
        await tasks.GetResultAsync(await tasks.RunAsync(new CodeTask("var warm = 1;")).WaitAsync(Timeout), timeout: Timeout).WaitAsync(Timeout);

        var started = Marker("started");
        var go = Marker("go");
        var ran = Enumerable.Range(1, 4).Select(i => Marker($"ran-{i}")).ToArray();
        var first = new CodeTask(
            $"System.IO.File.WriteAllText(@\"{started}\", \"\"); var until = System.DateTime.UtcNow.AddSeconds(100); " +
            $"while (!System.IO.File.Exists(@\"{go}\") && System.DateTime.UtcNow < until) System.Threading.Thread.Sleep(10); " +
            $"System.IO.File.WriteAllText(@\"{ran[0]}\", \"\");");
        var ids = await tasks.RunAsync([first, .. ran[1..].Select(path => (TaskDefinition)new CodeTask($"System.IO.File.WriteAllText(@\"{path}\", \"\");"))]).WaitAsync(Timeout);

        // The first runs; the others wait behind it in its batch, sent to the engine too.
        await WaitForFileAsync(started);
        foreach (var id in ids)
        {
            Assert.Equal(TaskStatus.Running, (await tasks.GetResultAsync(id, block: false).WaitAsync(Timeout)).Status);
        }

        foreach (var id in ids)
        {
            Assert.True(await tasks.AbortAsync(id).WaitAsync(Timeout));
        }

        await File.WriteAllTextAsync(go, "");
        var results = await tasks.BarrierAsync(ids).WaitAsync(Timeout);

        Assert.All(results, r => Assert.Equal(TaskStatus.Aborted, r.Status));
        Assert.Contains("which ran it to its end (an engine cannot stop running code)", results[0].Failure, StringComparison.Ordinal);
        Assert.True(File.Exists(ran[0]));
        foreach (var (result, path) in results.Zip(ran).Skip(1))
        {
            Assert.StartsWith("aborted before it ran", result.Failure, StringComparison.Ordinal);
            Assert.False(File.Exists(path), $"task {result.TaskId} ran though it was aborted before its turn: {result.Failure}");
        }
    }

    private string Marker(string name) => Path.Combine(cluster.BaseFolder, name);

    private static async Task WaitForFileAsync(string path)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (!File.Exists(path))
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}

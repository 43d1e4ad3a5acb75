using System.Diagnostics;
using CapCluster.Client;

namespace CapCluster.Bench;

/// <summary>
/// What one holder's flood costs another: the owner queues 200,000 no-op tasks on 2 engines, then a collaborator (a
/// capability attenuated from task.cap) runs one no-op task at a time while the flood drains: how long each waited in the
/// queue (accepted to started: what the task farm's turns decide), how long its acceptance took, its round trip, and how
/// long the flood took. Run it against another build's binaries with <c>--app PATH</c> to compare.
/// </summary>
internal static class FairBench
{
    private const int Flood = 200_000;

    public static async Task RunAsync(string app)
    {
        await using var cluster = await Bench.StartAsync(app, 2);
        var alicePath = Path.Combine(cluster.Folder, "alice.cap");
        var (exit, output) = await Bench.RunAsync(Path.Combine(app, "furlgen"), cluster.Folder, "attenuate", Path.Combine(cluster.Security, "task.cap"), "--label", "alice", "-o", alicePath);
        if (exit != 0)
        {
            throw new InvalidOperationException(output);
        }

        await using var owner = await TaskClient.ConnectAsync(Path.Combine(cluster.Security, "task.cap"));
        await using var alice = await TaskClient.ConnectAsync(alicePath);
        for (var i = 0; i < 200; i++)
        {
            await alice.GetResultAsync(await alice.RunAsync(DelegateTask.Of(() => 0)));
            await owner.GetResultAsync(await owner.RunAsync(DelegateTask.Of(() => 0)));
        }

        // Her tasks go in one at a time from the moment the owner starts submitting until the flood has drained.
        var flood = Stopwatch.StartNew();
        var submitting = owner.RunAsync([.. Enumerable.Range(0, Flood).Select(_ => (TaskDefinition)DelegateTask.Of(() => 0))]);
        var (waits, queued, acks) = (new List<double>(), new List<double>(), new List<double>());
        while (!submitting.IsCompleted || (await owner.QueueStatusAsync()).Queued > 1_000)
        {
            var one = Stopwatch.StartNew();
            var id = await alice.RunAsync(DelegateTask.Of(() => 0));
            var acked = one.Elapsed;
            var outcome = await alice.GetResultAsync(id);
            waits.Add(one.Elapsed.TotalMicroseconds);
            acks.Add(acked.TotalMicroseconds);
            queued.Add((outcome.Started!.Value - outcome.Submitted).TotalMicroseconds);
        }

        var ids = await submitting;
        await owner.BarrierAsync(ids);
        var drained = flood.Elapsed;
        waits.Sort();
        queued.Sort();
        acks.Sort();
        Console.WriteLine($"Owner's flood of {Flood:N0} no-op DelegateTasks: all done in {drained.TotalSeconds:0.00} s ({Flood / drained.TotalSeconds:N0}/s)");
        Console.WriteLine(waits.Count == 0
            ? "Collaborator: the flood drained before a task of hers could be timed"
            : $"Collaborator's no-op tasks meanwhile, one at a time ({waits.Count}): queued (accepted to started) median {Bench.Percentile(queued, 0.5) / 1000:0.0} ms, max {queued[^1] / 1000:0.0} ms; "
              + $"accepted after median {Bench.Percentile(acks, 0.5) / 1000:0.0} ms, max {acks[^1] / 1000:0.0} ms; round trip median {Bench.Percentile(waits, 0.5) / 1000:0.0} ms, max {waits[^1] / 1000:0.0} ms");
    }
}

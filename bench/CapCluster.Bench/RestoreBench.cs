using System.Diagnostics;
using CapCluster.Controller;
using CapCluster.Controller.Internal;
using CapCluster.Controller.Internal.Tasks;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Microsoft.Extensions.Logging.Abstractions;
using TaskFarm = CapCluster.Controller.Internal.Tasks.TaskFarm;

namespace CapCluster.Bench;

/// <summary>
/// <c>bench/run restore</c>: a restarted controller's task farm reading back a journal of 1,000,000 queued no-op tasks,
/// in process: how long it takes, the process's peak RSS while it reads, and its RSS once read and collected (issue
/// 17: queued tasks beyond the in-memory limit wait in the journal, after a restart too).
/// </summary>
internal static class RestoreBench
{
    private const int Count = 1_000_000;

    public static void Run()
    {
        var folder = Directory.CreateTempSubdirectory("capcluster-bench-restore-").FullName;
        try
        {
            var spec = new TaskSpec { Code = new CodeTaskSpec { Code = "0" } };
            using (var journal = TaskJournal.Open(Path.Combine(folder, "tasks"), new TaskJournalOptions(), NullLogger.Instance))
            {
                foreach (var part in Enumerable.Range(1, Count).Chunk(10_000))
                {
                    journal.Submit([.. part.Select(id => ((long)id, "cap_bench", 0L, spec))], new AssemblyRecords()).GetAwaiter().GetResult();
                }
            }

            Directory.CreateDirectory(Path.Combine(folder, "security"));
            var before = Collected();
            using var restarted = TaskJournal.Open(Path.Combine(folder, "tasks"), new TaskJournalOptions(), NullLogger.Instance);
            var farm = new TaskFarm(
                new EngineRegistry(TimeProvider.System, NullLogger.Instance), new TaskFarmOptions(), TaskLedger.Open(Path.Combine(folder, "security")),
                restarted, _ => null, TimeProvider.System, NullLogger.Instance);

            long peak = 0;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, Rss());
                    await Task.Delay(5).ConfigureAwait(false);
                }
            });
            var clock = Stopwatch.StartNew();
            var (queued, _) = farm.Restore();
            var took = clock.Elapsed;
            sampling.Cancel();
            sampler.Wait();
            var after = Collected();
            Console.WriteLine(
                $"Restart with {queued:N0} queued tasks journaled: read back in {took.TotalSeconds:0.0} s; RSS {Mib(before)} MiB before, " +
                $"peak {Mib(peak)} MiB while reading, {Mib(after)} MiB after (collected); {farm.SpilledRuns} runs wait in the journal");
            GC.KeepAlive(farm);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static long Collected()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return Rss();
    }

    private static long Rss()
    {
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0", System.Globalization.CultureInfo.InvariantCulture);
}

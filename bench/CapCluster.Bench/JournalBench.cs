using System.Diagnostics;
using CapCluster.Controller.Internal.Tasks;
using CapCluster.Protocol.V1;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace CapCluster.Bench;

/// <summary>
/// The task journal alone, in process: how long one submitted task takes to be durable (handed to the writer thread,
/// written with the previous task's result, committed, and answered), as a single client's round trips see it.
/// </summary>
internal static class JournalBench
{
    public static void Run()
    {
        var folder = Directory.CreateTempSubdirectory("capcluster-bench-journal-").FullName;
        try
        {
            using var journal = TaskJournal.Open(folder, new TaskJournalOptions(), NullLogger.Instance);
            var spec = new TaskSpec { Code = new CodeTaskSpec { Code = "0" } };
            var result = new TaskResult { TaskId = 1, State = TaskState.Succeeded }.ToByteArray();
            var times = new List<double>();
            for (var id = 1; id <= 6_000; id++)
            {
                journal.Finish(id - 1, result);
                var start = Stopwatch.GetTimestamp();
                journal.Submit([(id, "cap_bench", 0L, spec)], new AssemblyRecords()).GetAwaiter().GetResult();
                if (id > 1_000)
                {
                    times.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                }
            }

            Console.WriteLine($"Task journal, one task submitted and durable (the previous one's result pending), warm: {Bench.Percentiles(times)}");
            Bulk(journal, spec, result);
            ReadBack(journal);
            Clear(journal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// What a burst costs the journal: 20,000 tasks in one submission (as one <c>RunAsync</c> sends them), then their
    /// results, until all are durable; wall time and the process's CPU time (the writer thread's and the caller's).
    /// </summary>
    private static void Bulk(TaskJournal journal, TaskSpec spec, byte[] result)
    {
        const int Count = 20_000;
        var first = 1_000_000L;
        for (var round = 0; round < 5; round++, first += Count)
        {
            var tasks = Enumerable.Range(0, Count).Select(i => (first + i, "cap_bench", 0L, spec)).ToList();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var durable = journal.Submit(tasks, new AssemblyRecords());
            durable.GetAwaiter().GetResult();
            var submitted = clock.Elapsed;
            foreach (var (id, _, _, _) in tasks)
            {
                journal.Finish(id, result);
            }

            journal.Flush().GetAwaiter().GetResult();
            var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            Console.WriteLine($"Task journal, {Count:N0} tasks in one submission, then their results: submission durable in {submitted.TotalMilliseconds:0} ms, all in {clock.Elapsed.TotalMilliseconds:0} ms, CPU {used.TotalMilliseconds:0} ms ({used.TotalMicroseconds / Count:0.0} µs a task)");
        }
    }

    /// <summary>
    /// What running spilled tasks costs the journal: the bursts' 100,000 specs read back as the dispatcher reads them, a
    /// batch of 64 consecutive ids at a time (<see cref="Controller.TaskFarmOptions.BatchSize"/>); wall time per task.
    /// </summary>
    private static void ReadBack(TaskJournal journal)
    {
        const int Batch = 64;
        const long First = 1_000_000L, Count = 100_000;
        for (var round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            var read = 0;
            for (var id = First; id < First + Count; id += Batch)
            {
                var ids = new long[Math.Min(Batch, First + Count - id)];
                for (var i = 0; i < ids.Length; i++)
                {
                    ids[i] = id + i;
                }

                read += journal.ReadSpecs(ids).Count;
            }

            Console.WriteLine($"Task journal, {read:N0} spilled specs read back {Batch} at a time: {clock.Elapsed.TotalMilliseconds:0} ms ({clock.Elapsed.TotalMicroseconds / read:0.0} µs a task)");
        }
    }

    /// <summary>
    /// What a clear of the bursts costs the journal: their 100,000 tasks and results forgotten in one op, as
    /// <c>ClearAsync</c> hands them over, until durable; wall time and the process's CPU time.
    /// </summary>
    private static void Clear(TaskJournal journal)
    {
        const long First = 1_000_000L, Count = 100_000;
        var ids = new List<long>((int)Count);
        for (var id = First; id < First + Count; id++)
        {
            ids.Add(id);
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        journal.Forget(ids);
        journal.Flush().GetAwaiter().GetResult();
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Console.WriteLine($"Task journal, {Count:N0} tasks and their results forgotten in one clear: {clock.Elapsed.TotalMilliseconds:0} ms, CPU {used.TotalMilliseconds:0} ms ({used.TotalMicroseconds / Count:0.0} µs a task)");
    }
}

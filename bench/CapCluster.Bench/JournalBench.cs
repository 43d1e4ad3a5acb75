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
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

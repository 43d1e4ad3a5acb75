using System.Diagnostics;
using CapCluster.Client;
using CapCluster.Security;

namespace CapCluster.Bench;

/// <summary>
/// What the audit log costs a controller: what a start reads of a long log, sealed into segments or in one file,
/// and what a holder reconnecting in a loop makes the log write and every other holder wait, with each connection
/// written (<c>--audit-interval 0</c>) and with a holder's connections counted (the default).
/// </summary>
internal static class AuditBench
{
    private const int Records = 20_000;

    public static async Task RunAsync(string app)
    {
        Console.WriteLine($"Audit log of {Records:N0} records (one per connection, each fsynced and anchored), opened as a controller opens it at start:");
        Open("sealed into segments (default)", new AuditLogOptions());
        Open("one file (--audit-segment-bytes 0)", new AuditLogOptions { SegmentBytes = 0 });
        Console.WriteLine("A holder reconnecting in a loop from two tasks for 10 s (each connection makes one call), one engine:");
        await ChurnAsync(app, "each connection written (--audit-interval 0)", "--audit-interval", "0");
        await ChurnAsync(app, "a holder's connections counted (default)");
    }

    private static void Open(string label, AuditLogOptions options)
    {
        var folder = Directory.CreateTempSubdirectory("capcluster-bench-audit-").FullName;
        try
        {
            var path = Path.Combine(folder, "log", "audit.jsonl");
            var security = Path.Combine(folder, "security");
            var write = new AuditLogOptions { SegmentBytes = options.SegmentBytes, AggregationInterval = TimeSpan.Zero };
            var clock = Stopwatch.StartNew();
            using (var log = AuditLog.Open(path, security, options: write))
            {
                for (var i = 0; i < Records; i++)
                {
                    log.Append(new AuditRecord(DateTimeOffset.UtcNow, $"ipv4:10.{i >> 16}.{(i >> 8) & 255}.{i & 255}:45212", new string('f', 64),
                        "cap_xutyfqswexiib2lx", "bench", "capcluster.v1.TaskFarm", "Tasks", AuditRecord.Accepted, null));
                }
            }

            var written = clock.Elapsed;
            var files = AuditLog.Files(path);
            var opens = new List<double>();
            for (var k = 0; k < 5; k++)
            {
                clock.Restart();
                using (AuditLog.Open(path, security, options: options))
                {
                }

                opens.Add(clock.Elapsed.TotalMilliseconds);
            }

            // Twice: the first pays for compiling the loop that the opens of one file had already warmed.
            var verifies = new List<double>();
            AuditVerification verified = null!;
            for (var k = 0; k < 2; k++)
            {
                clock.Restart();
                verified = AuditLog.Verify(path, security);
                verifies.Add(clock.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine($"  {label,-36} {files.Sum(f => new FileInfo(f).Length) / 1e6:0.0} MB in {files.Count} file(s); " +
                $"written at {written.TotalMicroseconds / Records:0} µs a record; open (5 in a row) {string.Join(", ", opens.Select(o => o.ToString("0.0")))} ms; " +
                $"verify all (furlgen audit --verify), twice: {string.Join(", ", verifies.Select(v => v.ToString("0")))} ms ({(verified.IsIntact ? "intact" : verified.Message)})");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task ChurnAsync(string app, string label, params string[] options)
    {
        await using var cluster = await Bench.StartAsync(app, 1, options);
        var cap = Path.Combine(cluster.Security, "multiengine.cap");
        var audit = Directory.GetFiles(cluster.Folder, "audit.jsonl", SearchOption.AllDirectories).Single();
        long Records() => AuditLog.ReadAll(audit).Count;
        long Bytes() => AuditLog.Files(audit).Sum(f => new FileInfo(f).Length);
        var (records, bytes) = (Records(), Bytes());
        var stop = DateTime.UtcNow.AddSeconds(10);
        long connections = 0;
        var churn = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (DateTime.UtcNow < stop)
            {
                await using var client = await MultiEngineClient.ConnectAsync(cap);
                await client.GetIdsAsync();
                Interlocked.Increment(ref connections);
            }
        })).ToArray();

        // Another holder (the task capability) connecting and calling once every 100 ms meanwhile.
        var bystander = new List<double>();
        while (DateTime.UtcNow < stop)
        {
            var start = Stopwatch.GetTimestamp();
            await using (var tasks = await TaskClient.ConnectAsync(Path.Combine(cluster.Security, "task.cap")))
            {
                await tasks.QueueStatusAsync();
            }

            bystander.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            await Task.Delay(100);
        }

        await Task.WhenAll(churn);
        Console.WriteLine($"  {label,-46} {connections / 10.0:0}/s connections; audit +{Records() - records} records, +{(Bytes() - bytes) / 1e6:0.00} MB " +
            $"(counts still to be written when the interval ends not included); another holder's connect and call: {Bench.Percentiles(bystander)}");
    }
}

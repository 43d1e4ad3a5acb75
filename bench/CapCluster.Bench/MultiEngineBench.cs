using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Client;

namespace CapCluster.Bench;

/// <summary>Issue 3's figures on 2 engines, and the raw TLS ceiling of this machine in the same run.</summary>
internal static class MultiEngineBench
{
    /// <summary>Timed rounds of a transfer after the first (cold) one; their median is the figure.</summary>
    private const int WarmRounds = 9;

    public static async Task RunAsync(string app)
    {
        await using var cluster = await Bench.StartAsync(app, 2);
        {
            await using var mec = await MultiEngineClient.ConnectAsync(Path.Combine(cluster.Security, "multiengine.cap"));
            var engines = await mec.GetEnginesAsync();
            string Rss() => string.Join(", ", engines.Select(e => $"{Bench.RssMiB(e.Pid):0} MiB"));
            var executes = 0;
            async Task ExecuteAsync(string code)
            {
                await mec.ExecuteAsync(code);
                executes++;
            }

            Console.WriteLine($"Engine RSS idle: {Rss()}");
            await ExecuteAsync("var x = 1;");
            while (executes < 100)
            {
                await ExecuteAsync("x + 1");
            }

            Console.WriteLine($"Engine RSS after 100 executes: {Rss()}");
            for (var i = 0; i < 400; i++)
            {
                await ExecuteAsync("x + 1");
            }

            var repeated = new List<double>();
            for (var i = 0; i < 3000; i++)
            {
                var t = Stopwatch.GetTimestamp();
                await ExecuteAsync("x + 1");
                repeated.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            }

            Console.WriteLine($"Execute on all (2 engines), same code: {Bench.Percentiles(repeated)}");

            var fresh = new List<double>();
            for (var i = 0; i < 300; i++)
            {
                var t = Stopwatch.GetTimestamp();
                await ExecuteAsync($"x + {i}");
                fresh.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            }

            Console.WriteLine($"Execute on all (2 engines), new code each time: {Bench.Percentiles(fresh)}");

            while (executes < 10_000)
            {
                await ExecuteAsync($"var v{executes % 10} = {executes}; v{executes % 10} + x");
            }

            await mec.ExecuteAsync("GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();");
            Console.WriteLine($"Engine RSS after 10,000 executes: {Rss()}");

            await TransferAsync(mec, cluster.Security);
            await ScatterGatherAsync(mec, cluster.Security);
            await mec.ExecuteAsync("part = null; warmup = null; GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();");
            Console.WriteLine($"Engine RSS after the transfers, their values deleted: {Rss()}");
        }
    }

    /// <summary>
    /// Push and pull of 128 MiB to one engine, each round beside the ceiling (a raw TLS stream moving 1 GiB), so
    /// that both are measured in the same moments of a machine whose speed drifts: the first round (cold: the
    /// client's code paths not yet optimised by the runtime's tiered JIT; the controller is native), then the median of
    /// <see cref="WarmRounds"/> more, with the CPU and page faults of each process in the median round.
    /// </summary>
    /// <returns>The warm medians of push and pull, in MB/s.</returns>
    public static async Task<(double PushMBps, double PullMBps)> TransferAsync(MultiEngineClient mec, string security)
    {
        var array = new byte[128 * 1024 * 1024];
        Random.Shared.NextBytes(array);
        var processes = await ProcessesAsync(mec, security, [0]);
        var ceilings = new List<(double MBps, string Note)>();
        var pushes = new List<(double MBps, string Cpu)>();
        var pulls = new List<(double MBps, string Cpu)>();
        for (var round = 0; round <= WarmRounds; round++)
        {
            var beforeCeiling = Usage.Of(Environment.ProcessId);
            var ceilingMBps = await RawTlsMegabytesPerSecondAsync();
            ceilings.Add((ceilingMBps, $"CPU ms per 128 MiB {(Usage.Of(Environment.ProcessId).CpuSeconds - beforeCeiling.CpuSeconds) * 1000 / 8:0}"));
            var push = await MeasureAsync(mec, processes, () => mec.PushAsync("blob", array, [0]).AsTask());
            byte[] back = [];
            var pull = await MeasureAsync(mec, processes, async () => back = (await mec.PullAsync<byte[]>("blob", [0]))[0]);
            if (!back.AsSpan().SequenceEqual(array))
            {
                throw new InvalidOperationException("pulled data differs");
            }

            pushes.Add((134.217728 / push.Elapsed.TotalSeconds, push.Usage));
            pulls.Add((134.217728 / pull.Elapsed.TotalSeconds, pull.Usage));
        }

        var ceiling = Median(ceilings);
        Console.WriteLine($"Raw TLS 1.3 stream over loopback (SslStream, 1 GiB), the ceiling: {Summary(ceilings, MegabytesPerSecond)}");
        Console.WriteLine($"Push 128 MiB to one engine: {Summary(pushes, MegabytesPerSecond)}; {100 * Median(pushes) / ceiling:0} % of the ceiling");
        Console.WriteLine($"Pull 128 MiB from one engine: {Summary(pulls, MegabytesPerSecond)}; {100 * Median(pulls) / ceiling:0} % of the ceiling");
        await mec.ExecuteAsync("blob = null; GC.Collect();", [0]);
        return (Median(pushes), Median(pulls));
    }

    /// <summary>Scatter then gather of 10M doubles over the engines: the first round, then the median of <see cref="WarmRounds"/> more.</summary>
    /// <returns>The warm medians of scatter and gather, in seconds.</returns>
    public static async Task<(double ScatterSeconds, double GatherSeconds)> ScatterGatherAsync(MultiEngineClient mec, string security)
    {
        var processes = await ProcessesAsync(mec, security, null);
        var doubles = Enumerable.Range(0, 10_000_000).Select(i => (double)i).ToArray();
        // Large enough to travel on data lanes: the lanes to both engines are open, as in a cluster that has been working.
        await mec.ScatterAsync("warmup", new double[1_000_000]);
        await mec.GatherAsync<double[]>("warmup");
        var scatters = new List<(double Seconds, string Note)>();
        var gathers = new List<(double Seconds, string Note)>();
        for (var round = 0; round <= WarmRounds; round++)
        {
            var scatter = await MeasureAsync(mec, processes, () => mec.ScatterAsync("part", doubles));
            double[] gathered = [];
            var gather = await MeasureAsync(mec, processes, async () => gathered = await mec.GatherAsync<double[]>("part"));
            scatters.Add((scatter.Elapsed.TotalSeconds, scatter.Usage));
            gathers.Add((gather.Elapsed.TotalSeconds, gather.Usage));
            if (!gathered.AsSpan().SequenceEqual(doubles))
            {
                throw new InvalidOperationException("gathered data differs");
            }
        }

        Console.WriteLine($"Scatter 10M doubles over 2 engines: {Summary(scatters, Seconds)}");
        Console.WriteLine($"Gather 10M doubles from 2 engines: {Summary(gathers, Seconds)}");
        return (Median(scatters), Median(gathers));
    }

    /// <summary>
    /// Runs <paramref name="operation"/> after a full collection (see <see cref="CollectGarbageAsync"/>): the time it
    /// took, and what each of <paramref name="processes"/> spent meanwhile (see <see cref="Usage.Text"/>).
    /// </summary>
    private static async Task<(TimeSpan Elapsed, string Usage)> MeasureAsync(MultiEngineClient mec, List<(string Name, int Pid)> processes, Func<Task> operation)
    {
        await CollectGarbageAsync(mec);
        var before = Usage.Of(processes);
        var clock = Stopwatch.StartNew();
        await operation();
        clock.Stop();
        return (clock.Elapsed, Usage.Text(processes, before, Usage.Of(processes), clock.Elapsed));
    }

    /// <summary>
    /// A full collection in this process and on the engines before each timed operation (as BenchmarkDotNet does
    /// before each iteration), so that a round measures the operation and not the garbage of the rounds before it.
    /// </summary>
    private static async Task CollectGarbageAsync(MultiEngineClient mec)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        await mec.ExecuteAsync("GC.Collect();");
    }

    /// <summary>The median of the warm rounds (after the first) with their range, and the first round.</summary>
    private static string Summary(List<(double Value, string Note)> rounds, Func<double, string> show)
    {
        var warm = Warm(rounds);
        var median = warm[warm.Count / 2];
        var note = median.Note.Length > 0 ? $" ({median.Note})" : string.Empty;
        var firstNote = rounds[0].Note.Length > 0 ? $" ({rounds[0].Note})" : string.Empty;
        return $"warm median {show(median.Value)}{note}, range {show(warm[0].Value)}–{show(warm[^1].Value)} (n={warm.Count}); first {show(rounds[0].Value)}{firstNote}";
    }

    /// <summary>The median of the warm rounds, as <see cref="Summary"/> gives it.</summary>
    private static double Median(List<(double Value, string Note)> rounds)
    {
        var warm = Warm(rounds);
        return warm[warm.Count / 2].Value;
    }

    /// <summary>The rounds after the first, in order of their value.</summary>
    private static List<(double Value, string Note)> Warm(List<(double Value, string Note)> rounds) => [.. rounds.Skip(1).OrderBy(r => r.Value)];

    private static string MegabytesPerSecond(double value) => $"{value:0} MB/s";

    private static string Seconds(double value) => $"{value:0.000} s";

    /// <summary>The processes whose CPU a round reports: this one (the client), the controller, and the engines of <paramref name="ids"/> (all when null).</summary>
    private static async Task<List<(string Name, int Pid)>> ProcessesAsync(MultiEngineClient mec, string security, int[]? ids)
    {
        var engines = (await mec.GetEnginesAsync()).Where(e => ids is null || ids.Contains(e.Id)).OrderBy(e => e.Id);
        return
        [
            ("client", Environment.ProcessId),
            ("controller", CapCluster.Security.ControllerState.TryRead(security)!.Pid),
            .. engines.Select(e => ($"engine {e.Id}", e.Pid)),
        ];
    }

    /// <summary>User plus system CPU seconds a process has used, and its minor page faults, from /proc.</summary>
    private readonly record struct Usage(double CpuSeconds, long Faults)
    {
        public static Usage Of(int pid)
        {
            var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long Field(int i) => long.Parse(fields[i], System.Globalization.CultureInfo.InvariantCulture);
            return new Usage((Field(11) + Field(12)) / 100.0, Field(7));
        }

        public static Usage[] Of(List<(string Name, int Pid)> processes) => processes.ConvertAll(p => Of(p.Pid)).ToArray();

        /// <summary>The time taken, then each process's CPU milliseconds and page faults between the two snapshots.</summary>
        public static string Text(List<(string Name, int Pid)> processes, Usage[] before, Usage[] after, TimeSpan elapsed) =>
            $"{elapsed.TotalMilliseconds:0} ms; CPU ms (page faults) " + string.Join(", ", processes.Select((p, i) =>
                $"{p.Name} {1000 * (after[i].CpuSeconds - before[i].CpuSeconds):0} ({after[i].Faults - before[i].Faults})"));
    }

    /// <summary>Only the transfer figures, with the ceiling, on a fresh cluster of 1 engine.</summary>
    public static async Task RunTransferAsync(string app)
    {
        await using var cluster = await Bench.StartAsync(app, 1);
        await using var mec = await MultiEngineClient.ConnectAsync(Path.Combine(cluster.Security, "multiengine.cap"));
        await TransferAsync(mec, cluster.Security);
    }

    /// <summary>Only scatter and gather, on a fresh cluster of 2 engines.</summary>
    public static async Task RunScatterGatherAsync(string app)
    {
        await using var cluster = await Bench.StartAsync(app, 2);
        await using var mec = await MultiEngineClient.ConnectAsync(Path.Combine(cluster.Security, "multiengine.cap"));
        await ScatterGatherAsync(mec, cluster.Security);
    }

    private static async Task<double> RawTlsMegabytesPerSecondAsync()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=bench", key, HashAlgorithmName.SHA256);
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        const long total = 1L << 30;
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate, EnabledSslProtocols = SslProtocols.Tls13 });
            var buffer = new byte[1 << 20];
            long received = 0;
            while (received < total)
            {
                var n = await ssl.ReadAsync(buffer);
                if (n == 0)
                {
                    break;
                }

                received += n;
            }

            return received;
        });
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        client.NoDelay = true;
        await using var tls = new SslStream(client.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "bench",
            EnabledSslProtocols = SslProtocols.Tls13,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        var data = new byte[1 << 20];
        Random.Shared.NextBytes(data);
        var clock = Stopwatch.StartNew();
        for (long sent = 0; sent < total; sent += data.Length)
        {
            await tls.WriteAsync(data);
        }

        await tls.FlushAsync();
        await server;
        return total / clock.Elapsed.TotalSeconds / 1e6;
    }
}

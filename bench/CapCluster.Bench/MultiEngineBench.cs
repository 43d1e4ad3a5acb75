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
    private const int WarmRounds = 5;

    public static async Task RunAsync(string app)
    {
        Console.WriteLine($"Raw TLS 1.3 stream over loopback (SslStream, 1 GiB): {await RawTlsMegabytesPerSecondAsync():0} MB/s (the ceiling)");

        await using var cluster = await Bench.StartAsync(app, 2);
        {
            await using var mec = await MultiEngineClient.ConnectAsync(Path.Combine(cluster.Security, "multiengine.cap"));
            var engines = await mec.GetEnginesAsync();
            Console.WriteLine($"Engine RSS idle: {string.Join(", ", engines.Select(e => $"{Bench.RssMiB(e.Pid):0} MiB"))}");

            await mec.ExecuteAsync("var x = 1;");
            for (var i = 0; i < 500; i++)
            {
                await mec.ExecuteAsync("x + 1");
            }

            var repeated = new List<double>();
            for (var i = 0; i < 3000; i++)
            {
                var t = Stopwatch.GetTimestamp();
                await mec.ExecuteAsync("x + 1");
                repeated.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            }

            Console.WriteLine($"Execute on all (2 engines), same code: {Bench.Percentiles(repeated)}");

            var fresh = new List<double>();
            for (var i = 0; i < 300; i++)
            {
                var t = Stopwatch.GetTimestamp();
                await mec.ExecuteAsync($"x + {i}");
                fresh.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            }

            Console.WriteLine($"Execute on all (2 engines), new code each time: {Bench.Percentiles(fresh)}");

            await TransferAsync(mec, cluster.Security);

            await ScatterGatherAsync(mec);
            await mec.ExecuteAsync("part = null; warmup = null; GC.Collect();");

            for (var i = 0; i < 10_000; i++)
            {
                await mec.ExecuteAsync($"var v{i % 10} = {i}; v{i % 10} + x");
            }

            await mec.ExecuteAsync("GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();");
            Console.WriteLine($"Engine RSS after 10,000 executes: {string.Join(", ", engines.Select(e => $"{Bench.RssMiB(e.Pid):0} MiB"))}");
        }
    }

    /// <summary>
    /// Push and pull of 128 MiB to one engine: the first round (cold: the code paths not yet optimised by the
    /// runtime's tiered JIT in the client and controller), then the median of <see cref="WarmRounds"/> more, with
    /// the CPU each process spent in the median round.
    /// </summary>
    public static async Task TransferAsync(MultiEngineClient mec, string security)
    {
        var array = new byte[128 * 1024 * 1024];
        Random.Shared.NextBytes(array);
        var controller = CapCluster.Security.ControllerState.TryRead(security)!.Pid;
        var engine = (await mec.GetEnginesAsync()).Single(e => e.Id == 0).Pid;
        var pushes = new List<(double MBps, string Cpu)>();
        var pulls = new List<(double MBps, string Cpu)>();
        for (var round = 0; round <= WarmRounds; round++)
        {
            await CollectGarbageAsync(mec);
            var cpu = CpuNow(controller, engine);
            var push = Stopwatch.StartNew();
            await mec.PushAsync("blob", array, [0]);
            push.Stop();
            var afterPush = CpuNow(controller, engine);
            await CollectGarbageAsync(mec);
            var pull = Stopwatch.StartNew();
            var back = (await mec.PullAsync<byte[]>("blob", [0]))[0];
            pull.Stop();
            var afterPull = CpuNow(controller, engine);
            if (!back.AsSpan().SequenceEqual(array))
            {
                throw new InvalidOperationException("pulled data differs");
            }

            pushes.Add((134.217728 / push.Elapsed.TotalSeconds, CpuText(cpu, afterPush, push.Elapsed)));
            pulls.Add((134.217728 / pull.Elapsed.TotalSeconds, CpuText(afterPush, afterPull, pull.Elapsed)));
        }

        Console.WriteLine($"Push 128 MiB to one engine: {Summary(pushes, MegabytesPerSecond)}");
        Console.WriteLine($"Pull 128 MiB from one engine: {Summary(pulls, MegabytesPerSecond)}");
        await mec.ExecuteAsync("blob = null; GC.Collect();", [0]);
    }

    /// <summary>Scatter then gather of 10M doubles over the engines: the first round, then the median of <see cref="WarmRounds"/> more.</summary>
    private static async Task ScatterGatherAsync(MultiEngineClient mec)
    {
        var doubles = Enumerable.Range(0, 10_000_000).Select(i => (double)i).ToArray();
        // Large enough to travel on data lanes: the lanes to both engines are open, as in a cluster that has been working.
        await mec.ScatterAsync("warmup", new double[1_000_000]);
        await mec.GatherAsync<double[]>("warmup");
        var scatters = new List<(double Seconds, string Note)>();
        var gathers = new List<(double Seconds, string Note)>();
        for (var round = 0; round <= WarmRounds; round++)
        {
            await CollectGarbageAsync(mec);
            var scatter = Stopwatch.StartNew();
            await mec.ScatterAsync("part", doubles);
            scatters.Add((scatter.Elapsed.TotalSeconds, string.Empty));
            await CollectGarbageAsync(mec);
            var gather = Stopwatch.StartNew();
            var gathered = await mec.GatherAsync<double[]>("part");
            gathers.Add((gather.Elapsed.TotalSeconds, string.Empty));
            if (!gathered.AsSpan().SequenceEqual(doubles))
            {
                throw new InvalidOperationException("gathered data differs");
            }
        }

        Console.WriteLine($"Scatter 10M doubles over 2 engines: {Summary(scatters, Seconds)}");
        Console.WriteLine($"Gather 10M doubles from 2 engines: {Summary(gathers, Seconds)}");
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
        var warm = rounds.Skip(1).OrderBy(r => r.Value).ToList();
        var median = warm[warm.Count / 2];
        var note = median.Note.Length > 0 ? $" ({median.Note})" : string.Empty;
        return $"warm median {show(median.Value)}{note}, range {show(warm[0].Value)}–{show(warm[^1].Value)} (n={warm.Count}); first {show(rounds[0].Value)}";
    }

    private static string MegabytesPerSecond(double value) => $"{value:0} MB/s";

    private static string Seconds(double value) => $"{value:0.000} s";

    private static (double Client, double Controller, double Engine) CpuNow(int controller, int engine) =>
        (Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, CpuSeconds(controller), CpuSeconds(engine));

    private static string CpuText((double Client, double Controller, double Engine) before, (double Client, double Controller, double Engine) after, TimeSpan elapsed) =>
        $"{elapsed.TotalMilliseconds:0} ms; CPU ms client {1000 * (after.Client - before.Client):0}, controller {1000 * (after.Controller - before.Controller):0}, engine {1000 * (after.Engine - before.Engine):0}";

    /// <summary>User plus system CPU seconds a process has used, from /proc.</summary>
    private static double CpuSeconds(int pid)
    {
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>Only the transfer figures, with the ceiling, on a fresh cluster of 1 engine.</summary>
    public static async Task RunTransferAsync(string app)
    {
        Console.WriteLine($"Raw TLS 1.3 stream over loopback (SslStream, 1 GiB): {await RawTlsMegabytesPerSecondAsync():0} MB/s (the ceiling)");
        await using var cluster = await Bench.StartAsync(app, 1);
        await using var mec = await MultiEngineClient.ConnectAsync(Path.Combine(cluster.Security, "multiengine.cap"));
        await TransferAsync(mec, cluster.Security);
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

using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>
/// Several "hosts" on this one machine, each a Linux network namespace <c>cc-&lt;run&gt;-&lt;name&gt;</c> with
/// its own 10.77.0.x/24 address and loopback. They share one link: a bridge inside a hub namespace
/// <c>cc-&lt;run&gt;-hub</c>, with a veth pair to each host, so nothing is added to the root namespace
/// (no address, no route, no bridge netfilter rules apply) and two runs at once do not see each other.
/// Processes are started inside a host with <c>ip netns exec</c>; on dispose every process in the run's
/// namespaces is killed and the namespaces (and with them the bridge and veths) are deleted.
/// A run records its owner in <see cref="MarkerFolder"/>; a later run deletes the namespaces of runs whose
/// owner process is gone (a crashed or killed test run), and never touches other <c>cc-*</c> namespaces.
/// </summary>
internal sealed class NetnsHosts : IAsyncDisposable
{
    private const string MarkerFolder = "/run/capcluster-netns";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);
    private static readonly Lazy<string?> Unavailable = new(Probe);
    private static readonly object StaleLock = new();
    private static bool staleCleaned;

    private readonly List<BackgroundProcess> started = [];
    private readonly List<string> namespaces = [];
    private bool disposed;

    private NetnsHosts(string run)
    {
        Run = run;
        Hub = $"cc-{run}-hub";
    }

    /// <summary>Why namespaces cannot be made here, or null when they can.</summary>
    public static string? UnavailableReason => Unavailable.Value;

    /// <summary>The random id of this run, in every namespace name.</summary>
    public string Run { get; }

    public string Hub { get; }

    public IReadOnlyList<NetnsHost> Hosts { get; private set; } = [];

    public NetnsHost this[string name] => Hosts.Single(h => h.Name == name);

    /// <summary>Makes one host per name (lower-case letters or digits); the first gets 10.77.0.1, the next .2, and so on.</summary>
    public static NetnsHosts Create(params string[] names)
    {
        if (UnavailableReason is { } reason)
        {
            throw new InvalidOperationException(reason);
        }

        // Interface names are limited to 15 characters ("port-" + name in the hub); addresses to 10.77.0.1-254.
        if (names.Length is 0 or > 254 || names.Distinct().Count() != names.Length ||
            names.Any(n => n.Length is 0 or > 10 || n == "hub" || !n.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9'))))
        {
            throw new ArgumentException("host names must be 1-254 distinct names of 1-10 lower-case letters or digits, not \"hub\"", nameof(names));
        }

        DeleteStaleRuns();
        var hosts = new NetnsHosts(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3)));
        try
        {
            hosts.Build(names);
            return hosts;
        }
        catch
        {
            hosts.Teardown();
            throw;
        }
    }

    /// <summary>Starts <paramref name="program"/> inside <paramref name="host"/> with these environment variables; it is killed on dispose.</summary>
    public BackgroundProcess Start(NetnsHost host, string program, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var process = new BackgroundProcess(Process.Start(ExecInfo(host, program, environment, arguments))!);
        started.Add(process);
        return process;
    }

    /// <summary>Runs <paramref name="program"/> inside <paramref name="host"/> to completion.</summary>
    public async Task<ProcessResult> RunAsync(NetnsHost host, string program, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var process = Start(host, program, environment, arguments);
        try
        {
            await process.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} in {host} did not finish within 90 s:\n{process.Output}");
        }

        // WaitForExit with no timeout also waits for the redirected streams to reach end of file.
        process.Process.WaitForExit();
        return new ProcessResult(process.Process.ExitCode, process.StandardOutput, process.StandardError);
    }

    public ValueTask DisposeAsync()
    {
        Teardown();
        return ValueTask.CompletedTask;
    }

    private void Build(string[] names)
    {
        Directory.CreateDirectory(MarkerFolder);
        File.WriteAllText(Path.Combine(MarkerFolder, Run), Owner(Environment.ProcessId) ?? "");
        Add(Hub);
        Ip("-n", Hub, "link", "set", "lo", "up");
        Ip("-n", Hub, "link", "add", "br0", "type", "bridge");
        Ip("-n", Hub, "link", "set", "br0", "up");
        var hosts = new List<NetnsHost>();
        for (var i = 0; i < names.Length; i++)
        {
            var host = new NetnsHost(names[i], $"cc-{Run}-{names[i]}", $"10.77.0.{i + 1}");
            Add(host.Namespace);
            var port = "port-" + names[i];
            Ip("-n", Hub, "link", "add", "name", port, "type", "veth", "peer", "name", "eth0", "netns", host.Namespace);
            Ip("-n", Hub, "link", "set", "dev", port, "master", "br0", "up");
            Ip("-n", host.Namespace, "link", "set", "lo", "up");
            Ip("-n", host.Namespace, "addr", "add", host.Address + "/24", "dev", "eth0");
            Ip("-n", host.Namespace, "link", "set", "eth0", "up");
            hosts.Add(host);
        }

        Hosts = hosts;
    }

    private void Add(string name)
    {
        Ip("netns", "add", name);
        namespaces.Add(name);
    }

    private void Teardown()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        try
        {
            foreach (var process in started)
            {
                try
                {
                    if (!process.Process.HasExited)
                    {
                        process.Process.Kill(entireProcessTree: true);
                        process.Process.WaitForExit(TimeSpan.FromSeconds(10));
                    }
                }
                catch (InvalidOperationException)
                {
                }
            }
        }
        finally
        {
            // Also whatever those processes started in the namespaces (a namespace lives on while a process is in it).
            DeleteNamespaces(namespaces);
            File.Delete(Path.Combine(MarkerFolder, Run));
        }
    }

    private static void DeleteNamespaces(IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            var pids = TryIp("netns", "pids", name);
            foreach (var pid in pids.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                try
                {
                    using var process = Process.GetProcessById(int.Parse(pid, CultureInfo.InvariantCulture));
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(TimeSpan.FromSeconds(10));
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
                {
                }
            }

            TryIp("netns", "del", name);
        }
    }

    /// <summary>Deletes the namespaces of earlier runs whose owner process has ended (once per test process).</summary>
    private static void DeleteStaleRuns()
    {
        lock (StaleLock)
        {
            if (staleCleaned || !Directory.Exists(MarkerFolder))
            {
                staleCleaned = true;
                return;
            }

            staleCleaned = true;
            var existing = TryIp("netns", "list").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ')[0])
                .ToList();
            foreach (var marker in Directory.GetFiles(MarkerFolder))
            {
                var owner = File.ReadAllText(marker).Trim();
                var pid = owner.Split(' ')[0];
                if (int.TryParse(pid, CultureInfo.InvariantCulture, out var ownerPid) && Owner(ownerPid) == owner)
                {
                    continue; // that run's test process is alive: not stale
                }

                var prefix = $"cc-{Path.GetFileName(marker)}-";
                DeleteNamespaces(existing.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)));
                File.Delete(marker);
            }
        }
    }

    /// <summary>"pid starttime" of a live process (the start time tells a reused pid apart), or null.</summary>
    private static string? Owner(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return $"{pid} {fields[19]}"; // field 22 of stat: start time since boot
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }

        var name = "cc-probe-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        try
        {
            var add = TryIp("netns", "add", name);
            if (add.ExitCode != 0)
            {
                return $"cannot create network namespaces here (`ip netns add` failed: {add.Error.Trim()}); these tests need root (CAP_SYS_ADMIN and CAP_NET_ADMIN)";
            }

            TryIp("netns", "del", name);
            return null;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"cannot run `ip` ({e.Message}); install iproute2";
        }
    }

    private static ProcessStartInfo ExecInfo(NetnsHost host, string program, IReadOnlyDictionary<string, string> environment, string[] arguments)
    {
        var info = new ProcessStartInfo("ip", ["netns", "exec", host.Namespace, program, .. arguments])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["TERM"] = "dumb";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return info;
    }

    private static void Ip(params string[] arguments)
    {
        var result = TryIp(arguments);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed: {result}");
        }
    }

    private static ProcessResult TryIp(params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("ip", arguments)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeout))
        {
            process.Kill();
            throw new TimeoutException($"ip {string.Join(' ', arguments)} did not finish within {CommandTimeout}");
        }

        return new ProcessResult(process.ExitCode, output.Result, error.Result);
    }
}

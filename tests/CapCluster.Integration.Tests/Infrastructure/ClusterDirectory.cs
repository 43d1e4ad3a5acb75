using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CapCluster.Security;

namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>
/// A throwaway CAPCLUSTER_DIR for one test: runs the real binaries with it, and on
/// dispose stops every controller and engine that was started under it.
/// </summary>
internal sealed class ClusterDirectory : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);
    private readonly List<Process> started = [];
    private readonly HashSet<string?> profiles = [null];
    private readonly List<TinyDisk> disks = [];

    public ClusterDirectory()
    {
        BaseFolder = Directory.CreateTempSubdirectory("capcluster-test-").FullName;
    }

    public string BaseFolder { get; }

    /// <summary>More environment for every binary this directory runs (SLURM_CONF, say).</summary>
    public Dictionary<string, string> Environment { get; } = [];

    public ClusterPaths Paths(string? profile = null)
    {
        profiles.Add(profile);
        return ClusterPaths.Under(BaseFolder, profile);
    }

    public string CapFile(string iface, string? profile = null) => Paths(profile).CapFile(iface);

    /// <summary>Runs one of the binaries to completion.</summary>
    public async Task<ProcessResult> RunAsync(string program, params string[] arguments)
    {
        using var process = Process.Start(StartInfo(program, arguments, redirect: true))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(CommandTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {CommandTimeout}");
        }

        return new ProcessResult(process.ExitCode, await output, await error);
    }

    /// <summary>Starts one of the binaries in the background; it is killed on dispose.</summary>
    public BackgroundProcess Start(string program, params string[] arguments)
    {
        var process = new BackgroundProcess(Process.Start(StartInfo(program, arguments, redirect: true))!);
        started.Add(process.Process);
        return process;
    }

    /// <summary>Starts a controller with these arguments and waits for its ready line.</summary>
    public async Task<BackgroundProcess> StartControllerAsync(params string[] arguments)
    {
        var controller = Start("capcontroller", arguments);
        await controller.WaitForLineAsync("ready", TimeSpan.FromSeconds(60));
        return controller;
    }

    /// <summary>Waits until the controller lists exactly <paramref name="count"/> engines; returns their ids.</summary>
    public static async Task<IReadOnlyList<int>> WaitForEnginesAsync(CapCluster.Client.MultiEngineClient client, int count, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var ids = await client.GetIdsAsync().WaitAsync(timeout);
            if (ids.Count == count)
            {
                return ids;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"expected {count} engines within {timeout}, the controller lists [{string.Join(", ", ids)}]");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var profile in profiles)
        {
            var args = profile is null ? new[] { "stop" } : ["stop", "--profile", profile];
            try
            {
                await RunAsync("capcluster", args);
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
            }
        }

        foreach (var process in started)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
            }

            process.Dispose();
        }

        foreach (var disk in disks)
        {
            await disk.DisposeAsync();
        }

        if (System.Environment.GetEnvironmentVariable("CAPCLUSTER_TEST_KEEP") == "1")
        {
            // Kept for a look at the logs, journal and audit of a run that failed (CONTRIBUTING.md).
            return;
        }

        try
        {
            Directory.Delete(BaseFolder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A tmpfs of <paramref name="size"/> on the folder <paramref name="name"/> here (root only), unmounted on dispose once every process is stopped.</summary>
    public async Task<TinyDisk> MountTinyDiskAsync(string name, string size)
    {
        var disk = await TinyDisk.MountAsync(Path.Combine(BaseFolder, name), size);
        disks.Add(disk);
        return disk;
    }

    /// <summary>Controller arguments that pin its three ports to free ones, so that a restart keeps them.</summary>
    public static string[] PinnedPorts()
    {
        var ports = FreePorts(3);
        return
        [
            "--engine-port", ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--client-port", ports[1].ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--data-port", ports[2].ToString(System.Globalization.CultureInfo.InvariantCulture),
        ];
    }

    public static int FreePort() => FreePorts(1)[0];

    /// <summary>
    /// <paramref name="count"/> free ports, all different: each is held until all are found (one at a time, the kernel
    /// may hand the port just let go out again, and a controller refused its data port as its client port).
    /// </summary>
    public static int[] FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listeners.Add(listener);
                listener.Start();
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    private ProcessStartInfo StartInfo(string program, string[] arguments, bool redirect)
    {
        var info = new ProcessStartInfo(Repository.App(program), arguments)
        {
            UseShellExecute = false,
            RedirectStandardOutput = redirect,
            RedirectStandardError = redirect,
            RedirectStandardInput = false,
        };
        info.Environment["CAPCLUSTER_DIR"] = BaseFolder;
        info.Environment["TERM"] = "dumb";
        foreach (var (name, value) in Environment)
        {
            info.Environment[name] = value;
        }

        return info;
    }
}

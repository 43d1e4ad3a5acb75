using System.Diagnostics;
using System.Text;

namespace CapCluster.Mpi.Tests.Infrastructure;

/// <summary>
/// Runs CapCluster.Mpi.Tests.Program on n ranks under mpirun, or alone as an MPI singleton, and parses
/// its "rank key value" lines.
/// </summary>
internal sealed class MpirunResult
{
    private readonly Dictionary<(int Rank, string Key), string> values = [];

    private MpirunResult(int exitCode, string output, string error)
    {
        ExitCode = exitCode;
        Output = output;
        Error = error;
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] parts = line.Split(' ', 3);
            if (parts.Length == 3 && int.TryParse(parts[0], out int rank))
            {
                values[(rank, parts[1])] = parts[2];
            }
        }
    }

    public int ExitCode { get; }

    public string Output { get; }

    public string Error { get; }

    /// <summary>The value rank <paramref name="rank"/> printed for <paramref name="key"/>; fails with the whole output if absent.</summary>
    public string this[int rank, string key] =>
        values.TryGetValue((rank, key), out var value)
            ? value
            : throw new Xunit.Sdk.XunitException($"rank {rank} printed no '{key}'.\nstdout:\n{Output}\nstderr:\n{Error}");

    /// <summary>Runs the program alone, without mpirun, with <paramref name="library"/> as the MPI library.</summary>
    public static Task<MpirunResult> RunSingletonAsync(string threadLevel, string library, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(ProgramPath());
        start.ArgumentList.Add(threadLevel);
        start.Environment["TERM"] = "dumb";
        start.Environment["CAPCLUSTER_MPI_LIBRARY"] = library;
        return RunAsync(start, "the singleton", timeout);
    }

    public static Task<MpirunResult> RunAsync(int ranks, string threadLevel, TimeSpan timeout)
    {
        string program = ProgramPath();
        var start = new ProcessStartInfo(MpiEnvironment.Mpirun!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("-n");
        start.ArgumentList.Add(ranks.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (MpiEnvironment.IsOpenMpi)
        {
            // Two cores here; root in containers; shared memory only; no escape sequences from the console.
            foreach (string arg in new[] { "--oversubscribe", "--allow-run-as-root", "--mca", "btl", "self,vader", "-x", "TERM=dumb" })
            {
                start.ArgumentList.Add(arg);
            }
        }
        else
        {
            start.ArgumentList.Add("-genv");
            start.ArgumentList.Add("TERM");
            start.ArgumentList.Add("dumb");
        }

        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(program);
        start.ArgumentList.Add(threadLevel);
        start.Environment["TERM"] = "dumb";
        return RunAsync(start, $"mpirun -n {ranks}", timeout);
    }

    private static string ProgramPath()
    {
        string program = Path.Combine(AppContext.BaseDirectory, "CapCluster.Mpi.Tests.Program.dll");
        Assert.True(File.Exists(program), $"{program} was not built next to the tests.");
        return program;
    }

    private static async Task<MpirunResult> RunAsync(ProcessStartInfo start, string what, TimeSpan timeout)
    {
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            throw new Xunit.Sdk.XunitException(
                $"{what} did not finish within {timeout}.\nstdout:\n{await output}\nstderr:\n{await error}");
        }

        return new MpirunResult(process.ExitCode, await output.WaitAsync(TimeSpan.FromSeconds(10)), await error.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}

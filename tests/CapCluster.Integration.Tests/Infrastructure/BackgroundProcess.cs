using System.Collections.Concurrent;
using System.Diagnostics;

namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>A process started by a test, with its output lines kept so a test can wait for one.</summary>
internal sealed class BackgroundProcess
{
    private readonly ConcurrentQueue<string> lines = new();
    private readonly ConcurrentQueue<string> stdout = new();
    private readonly ConcurrentQueue<string> stderr = new();
    private readonly SemaphoreSlim arrived = new(0);

    public BackgroundProcess(Process process)
    {
        Process = process;
        process.OutputDataReceived += (_, e) => Add(e.Data, stdout);
        process.ErrorDataReceived += (_, e) => Add(e.Data, stderr);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    /// <summary>Standard output and error, interleaved as they arrived.</summary>
    public string Output => string.Join('\n', lines);

    public string StandardOutput => string.Join('\n', stdout);

    public string StandardError => string.Join('\n', stderr);

    public async Task<string> WaitForLineAsync(string contains, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (true)
        {
            var line = lines.FirstOrDefault(l => l.Contains(contains, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            if (Process.HasExited)
            {
                await Process.WaitForExitAsync();
                line = lines.FirstOrDefault(l => l.Contains(contains, StringComparison.Ordinal));
                return line ?? throw new InvalidOperationException($"process exited ({Process.ExitCode}) without printing '{contains}':\n{Output}");
            }

            try
            {
                await arrived.WaitAsync(TimeSpan.FromMilliseconds(200), cancel.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no line with '{contains}' within {timeout}:\n{Output}");
            }
        }
    }

    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private void Add(string? line, ConcurrentQueue<string> stream)
    {
        if (line is not null)
        {
            stream.Enqueue(line);
            lines.Enqueue(line);
            arrived.Release();
        }
    }
}

using System.Diagnostics;

namespace CapCluster.Launcher.Internal;

/// <summary>
/// Starts a CapCluster process that outlives the launcher: in its own session (no
/// hang-up when the terminal closes), stdin from /dev/null, stdout and stderr into
/// <c>&lt;log folder&gt;/&lt;name&gt;-&lt;pid&gt;.out</c>. <c>sh</c> and <c>setsid</c> both exec,
/// so the returned process is the program itself, with its own pid. The file's name comes from the shell's own
/// <c>${0##*/}</c>: a <c>$(basename "$0")</c> forked a shell and ran a program, about 10 ms before each process could start.
/// </summary>
internal static class DetachedProcess
{
    private const string Script = "exec setsid \"$0\" \"$@\" </dev/null >\"$CAPCLUSTER_OUT_DIR/${0##*/}-$$.out\" 2>&1";

    /// <summary>Starts <paramref name="executable"/> with <paramref name="arguments"/>, its output in <paramref name="logFolder"/>, and <paramref name="environment"/> on top of the launcher's own variables.</summary>
    public static Process Start(string executable, IEnumerable<string> arguments, string logFolder, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(executable);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["CAPCLUSTER_OUT_DIR"] = logFolder;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"could not start {executable}");
    }

    /// <summary>The program a process from <see cref="Start"/> runs (the argument after the script), e.g. "capengine" or "mpirun".</summary>
    public static string ProgramName(Process process) =>
        Path.GetFileName(process.StartInfo.ArgumentList.Count > 2 ? process.StartInfo.ArgumentList[2] : process.StartInfo.FileName);

    public static string OutputFile(string logFolder, string executable, int pid) =>
        Path.Combine(logFolder, $"{Path.GetFileName(executable)}-{pid}.out");
}

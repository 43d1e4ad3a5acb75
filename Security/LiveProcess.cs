using System.Diagnostics;

namespace CapCluster.Security;

/// <summary>Whether a recorded pid is still one of our processes at work.</summary>
public static class LiveProcess
{
    /// <summary>
    /// Whether <paramref name="pid"/> runs and is named one of <paramref name="expectedNames"/>. A process killed but
    /// not yet reaped (a zombie, as in a container whose first process reaps no orphans) has exited: it holds no
    /// port, lock or file any more.
    /// </summary>
    public static bool IsRunning(int pid, params string[] expectedNames)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && expectedNames.Contains(process.ProcessName) && !IsZombie(pid);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            // /proc/PID/stat: "pid (comm) state ..."; comm may hold spaces and parentheses, the state follows the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var end = stat.LastIndexOf(')');
            return end > 0 && end + 2 < stat.Length && stat[end + 2] is 'Z' or 'X';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}

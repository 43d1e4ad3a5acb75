using System.Runtime.InteropServices;

namespace CapCluster.Engine.Internal;

/// <summary>
/// Work that may use only the CPU nobody else wants: a thread of its own at the lowest scheduling priority (Linux nice
/// 19, which applies to one thread). The engine warms its compiler this way once registered: about 0.9 s of CPU that,
/// at normal priority, was taken from the engines still registering beside it and from the first work sent to it; the
/// compiler it warms is not needed for a task or an apply, and a first execute takes over the CPU the warm-up leaves.
/// </summary>
internal static partial class Background
{
    private const int PriorityProcess = 0; // PRIO_PROCESS: with a thread id, that thread alone on Linux
    private const int Lowest = 19;

    /// <summary>Runs <paramref name="work"/> on a new background thread at the lowest priority; its failure is its own (logged by the caller).</summary>
    public static void Run(string name, Action work)
    {
        var thread = new Thread(() =>
        {
            Lower();
            work();
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
    }

    private static void Lower()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _ = SetPriority(PriorityProcess, GetThreadId(), Lowest); // a refusal leaves the normal priority: slower start, same result
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // Not glibc: the thread keeps its normal priority.
        }
    }

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}

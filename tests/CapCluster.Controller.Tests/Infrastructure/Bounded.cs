namespace CapCluster.Controller.Tests.Infrastructure;

/// <summary>The bound on every await in these tests: a hang fails with a message instead of stalling the run.</summary>
internal static class Bounded
{
    /// <summary>Far beyond anything these in-process tests wait for; it detects hangs, it measures nothing.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Timeout);

    public static Task Within(this Task task) => task.WaitAsync(Timeout);

    public static Task<T> Within<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Timeout);
}

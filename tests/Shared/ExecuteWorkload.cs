namespace CapCluster.Tests.Shared;

/// <summary>
/// The executes the memory tests run, in the test's process and on a real engine: after <see cref="Start"/>, a
/// quarter are new texts (each compiled into an assembly of its own) and the rest repeated ones. After executes 1
/// to n, x is (n + 3) / 4.
/// </summary>
internal static class ExecuteWorkload
{
    public const string Start = "var x = 0;";

    /// <summary>The code of execute <paramref name="i"/>, counted from 1.</summary>
    public static string Code(int i) => (i % 4) switch
    {
        0 => $"var v{i % 10} = {i}; v{i % 10} + 1",
        1 => "x = x + 1;",
        2 => "x + 1",
        _ => $"x * {i % 13}",
    };
}

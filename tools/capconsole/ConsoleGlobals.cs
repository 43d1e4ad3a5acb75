using CapCluster.Client;

namespace CapCluster.Repl;

/// <summary>
/// What C# typed into <c>capcluster console</c> sees as globals: <c>mec</c> and <c>tc</c>, named as in
/// IPython's parallel examples. Public because Roslyn's script code must be able to reach it.
/// </summary>
public sealed class ConsoleGlobals(MultiEngineClient? mec, TaskClient? tc)
{
#pragma warning disable IDE1006 // the names users type, as in IPython's examples
    /// <summary>The MultiEngineClient the console connected with, or null in a console started with a task capability only.</summary>
    public MultiEngineClient? mec { get; } = mec;

    /// <summary>The TaskClient, or null when no task capability was found or it was refused.</summary>
    public TaskClient? tc { get; } = tc;
#pragma warning restore IDE1006
}

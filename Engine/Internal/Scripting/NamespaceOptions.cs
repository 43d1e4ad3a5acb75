namespace CapCluster.Engine.Internal.Scripting;

/// <summary>How an engine's persistent C# namespace compiles and recycles submissions.</summary>
internal sealed record NamespaceOptions
{
    /// <summary>Namespaces imported into every submission. Defaults to System, System.Linq,
    /// System.Collections.Generic, System.Threading.Tasks and System.IO.</summary>
    public IReadOnlyList<string> Usings { get; init; } =
        ["System", "System.Linq", "System.Collections.Generic", "System.Threading.Tasks", "System.IO"];

    /// <summary>Submissions compiled into one collectible load context before the namespace
    /// moves its variables into a fresh one so the old assemblies can unload. Default 200:
    /// compile time grows with the chain's length, and each context costs a few MB.</summary>
    public int RebaseEvery { get; init; } = 200;

    /// <summary>Compile submissions optimized (default true). Optimized user code runs several
    /// times faster, but the JIT may inline small methods the user declared, so their frames
    /// can be missing from stack traces; false gives exact traces.</summary>
    public bool Optimize { get; init; } = true;
}

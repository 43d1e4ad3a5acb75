namespace CapCluster.Engine.Tests.Scripting;

/// <summary>The namespace swaps Console.Out while executing, and the memory test measures the
/// whole process: these tests run alone, not beside each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ScriptingCollection
{
    public const string Name = "Scripting";
}

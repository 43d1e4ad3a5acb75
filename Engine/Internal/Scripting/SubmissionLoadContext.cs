using System.Reflection;
using System.Runtime.Loader;

namespace CapCluster.Engine.Internal.Scripting;

/// <summary>
/// One collectible load context per submission chain. Submissions reference the earlier
/// submissions of their chain by assembly name, so Load resolves those; everything else
/// (the framework, the engine) comes from the default context.
/// </summary>
internal sealed class SubmissionLoadContext(string name) : AssemblyLoadContext(name, isCollectible: true)
{
    private readonly Dictionary<string, Assembly> _submissions = new(StringComparer.Ordinal);

    public Assembly LoadSubmission(string assemblyName, Stream image, Stream symbols)
    {
        var assembly = LoadFromStream(image, symbols);
        _submissions[assemblyName] = assembly;
        return assembly;
    }

    public bool Owns(Assembly assembly) => _submissions.ContainsKey(assembly.GetName().Name ?? "");

    protected override Assembly? Load(AssemblyName assemblyName) =>
        assemblyName.Name is { } n && _submissions.TryGetValue(n, out var a) ? a : null;

    /// <summary>Measured: a context whose Load map still holds its assemblies never unloads,
    /// so the map is cleared before Unload.</summary>
    public void Release()
    {
        _submissions.Clear();
        Unload();
    }
}

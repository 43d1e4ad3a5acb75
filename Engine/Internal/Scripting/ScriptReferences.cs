using System.Reflection;
using Microsoft.CodeAnalysis;

namespace CapCluster.Engine.Internal.Scripting;

/// <summary>
/// The metadata references every submission compiles against. Kept minimal on purpose:
/// referencing all of System.* cost ~370 KB per submission against ~50 KB for this set.
/// Assemblies of pushed values are added per chain when needed.
/// </summary>
internal static class ScriptReferences
{
    private static readonly string[] s_names =
        [
            "System.Private.CoreLib", "System.Runtime", "System.Console", "System.Linq", "System.Collections", "netstandard",
            // dynamic: the binder and CallSite/DynamicAttribute.
            "Microsoft.CSharp", "System.Linq.Expressions",
        ];

    private static readonly Lazy<IReadOnlyList<MetadataReference>> s_defaults = new(Create);

    public static IReadOnlyList<MetadataReference> Defaults => s_defaults.Value;

    /// <summary>The shared framework's implementation assemblies, from the directory the
    /// runtime itself was loaded from.</summary>
    private static IReadOnlyList<MetadataReference> Create()
    {
        var directory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        return [.. s_names
            .Select(n => Path.Combine(directory, n + ".dll"))
            .Append(typeof(CapCluster.Mpi.Communicator).Assembly.Location)   // engine code may call MPI
            .Where(File.Exists)
            .Select(p => MetadataReference.CreateFromFile(p))];
    }

    /// <summary>A reference to the file an assembly was loaded from, or null when it has none
    /// (in-memory or collectible assemblies such as submissions).</summary>
    public static MetadataReference? ForAssembly(Assembly assembly) =>
        assembly.IsDynamic || assembly.IsCollectible || string.IsNullOrEmpty(assembly.Location)
            ? null
            : MetadataReference.CreateFromFile(assembly.Location);
}

using System.Collections.Concurrent;
using System.Reflection;

namespace CapCluster.Client;

/// <summary>
/// For hosts that compile code in memory (the console, a notebook's C# kernel): where a delegate task finds the bytes of
/// an assembly that has no file. A delegate declared in such an assembly ships only when its host registered the
/// image here, under the assembly's simple name, before the delegate is packaged.
/// </summary>
public static class InMemoryAssemblies
{
    private static readonly ConcurrentDictionary<string, Lazy<byte[]>> Images = new(StringComparer.Ordinal);
    private static volatile string? hostFolder;

    /// <summary>
    /// Registers how to get the image of the in-memory assembly named <paramref name="assemblyName"/>: called at most
    /// once, the first time a delegate of that assembly (or of one referring to it) ships. The image must be the
    /// assembly as loaded (for Roslyn, an emit of the same compilation), so that its types and metadata tokens match.
    /// </summary>
    public static void Register(string assemblyName, Func<byte[]> image)
    {
        ArgumentException.ThrowIfNullOrEmpty(assemblyName);
        ArgumentNullException.ThrowIfNull(image);
        Images[assemblyName] = new Lazy<byte[]>(image, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// Names the host's own folder (the console's application folder): an assembly compiled in memory refers to every
    /// assembly the host gave its compiler, Roslyn and the host's libraries among them, but a delegate typed in it does
    /// not run their code on an engine, so its references to files in this folder are not shipped with it (35 MB, where
    /// the console's inputs are a few KB). References outside it are, as from compiled code.
    /// </summary>
    public static void RegisterHostFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        hostFolder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + Path.DirectorySeparatorChar;
    }

    internal static bool IsHost(Assembly assembly) =>
        hostFolder is { } folder && assembly.Location.StartsWith(folder, StringComparison.Ordinal);

    internal static bool IsRegistered(Assembly assembly) => Images.ContainsKey(assembly.GetName().Name!);

    /// <summary>The registered image of <paramref name="assembly"/> (see <see cref="IsRegistered"/>).</summary>
    internal static byte[] ImageOf(Assembly assembly) => Images[assembly.GetName().Name!].Value;
}

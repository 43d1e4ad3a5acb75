using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Reflection;

namespace CapCluster.Client;

/// <summary>
/// For hosts that compile code in memory (the console, a notebook's C# kernel): where a delegate task finds the bytes of
/// an assembly that has no file. A delegate declared in such an assembly ships only when its host registered the
/// image here, by the assembly's simple name or through a resolver, before the delegate is packaged. Before an image
/// ships, the client checks that it is the loaded assembly (the same metadata but for its MVID, the same IL): an image
/// that is not is refused, never run in its place.
/// </summary>
public static class InMemoryAssemblies
{
    private static readonly ConcurrentDictionary<string, Lazy<byte[]>> Images = new(StringComparer.Ordinal);
    private static ImmutableList<Func<Assembly, byte[]?>> resolvers = [];
    private static volatile string? hostFolder;

    /// <summary>
    /// Registers how to get the image of the in-memory assembly named <paramref name="assemblyName"/>: called at most
    /// once, the first time a delegate of that assembly (or of one referring to it) ships. The image must be the
    /// assembly as loaded, so that its types and metadata tokens match: for Roslyn scripting, an emit of the same compilation,
    /// with a PDB stream when the script's options emit debug information (the metadata differs without).
    /// </summary>
    public static void Register(string assemblyName, Func<byte[]> image)
    {
        ArgumentException.ThrowIfNullOrEmpty(assemblyName);
        ArgumentNullException.ThrowIfNull(image);
        Images[assemblyName] = new Lazy<byte[]>(image, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// Registers a resolver, for a host that cannot name an assembly before its code runs (a notebook's C# kernel
    /// compiles a cell and runs it at once): asked, in the order of registration, for an in-memory assembly that no
    /// <see cref="Register"/> names, it returns the image, or null for an assembly it does not know. Each assembly is
    /// resolved once. Disposing the result unregisters the resolver.
    /// </summary>
    public static IDisposable RegisterResolver(Func<Assembly, byte[]?> resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ImmutableInterlocked.Update(ref resolvers, static (list, r) => list.Add(r), resolver);
        return new Unregistration(resolver);
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

    /// <summary>The image of <paramref name="assembly"/> its host registered or resolves; null when none knows it.</summary>
    internal static byte[]? TryImageOf(Assembly assembly)
    {
        var name = assembly.GetName().Name!;
        if (Images.TryGetValue(name, out var registered))
            return registered.Value;

        foreach (var resolver in resolvers)
        {
            if (resolver(assembly) is { } image)
                return Images.GetOrAdd(name, new Lazy<byte[]>(image)).Value;
        }

        return null;
    }

    private sealed class Unregistration(Func<Assembly, byte[]?> resolver) : IDisposable
    {
        public void Dispose() => ImmutableInterlocked.Update(ref resolvers, static (list, r) => list.Remove(r), resolver);
    }
}

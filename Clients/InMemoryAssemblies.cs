using System.Collections.Concurrent;

namespace CapCluster.Client;

/// <summary>
/// For hosts that compile code in memory (the console, a notebook's C# kernel): where a delegate task finds the bytes of
/// an assembly that has no file. A delegate declared in such an assembly ships only when its host registered the
/// image here, under the assembly's simple name, before the delegate is packaged.
/// </summary>
public static class InMemoryAssemblies
{
    private static readonly ConcurrentDictionary<string, Lazy<byte[]>> Images = new(StringComparer.Ordinal);

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

    /// <summary>The registered image of <paramref name="assemblyName"/>, or null when none is.</summary>
    internal static byte[]? TryGet(string? assemblyName) =>
        assemblyName is not null && Images.TryGetValue(assemblyName, out var image) ? image.Value : null;

    internal static bool IsRegistered(string? assemblyName) => assemblyName is not null && Images.ContainsKey(assemblyName);
}

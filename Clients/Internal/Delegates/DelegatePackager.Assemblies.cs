using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Security.Cryptography;
using CapCluster.Protocol;

namespace CapCluster.Client.Internal.Delegates;

internal static partial class DelegatePackager
{
    // Hashing reads the whole file: once per assembly per process.
    private static readonly ConditionalWeakTable<Assembly, AssemblyImage> Images = new();
    private static readonly ConditionalWeakTable<Assembly, Closure> Closures = new();

    private static readonly string RuntimeDirectory = Path.TrimEndingDirectorySeparator(RuntimeEnvironment.GetRuntimeDirectory());

    /// <summary>
    /// ".../dotnet/shared", holding Microsoft.NETCore.App, Microsoft.AspNetCore.App and any other shared
    /// framework; null for a self-contained app, whose runtime directory is the app's own.
    /// </summary>
    private static readonly string? SharedRoot =
        Path.GetDirectoryName(Path.GetDirectoryName(RuntimeDirectory)) is { } root && Path.GetFileName(root) == "shared"
            ? root + Path.DirectorySeparatorChar
            : null;

    /// <summary>The declaring assembly's image first, then its non-framework references, transitively; and their closure id.</summary>
    private static Closure AssembliesFor(MethodInfo method, Assembly root)
    {
        if (Closures.TryGetValue(root, out var cached))
            return cached;

        var images = new List<AssemblyImage>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { root.FullName! };
        // Two references may resolve to one assembly (a reference to an older version of a package unified with the
        // loaded one): it is shipped once.
        var queued = new HashSet<Assembly> { root };
        var pending = new Queue<Assembly>();
        pending.Enqueue(root);
        while (pending.TryDequeue(out var assembly))
        {
            images.Add(ImageOf(method, assembly));
            var context = AssemblyLoadContext.GetLoadContext(assembly) ?? AssemblyLoadContext.Default;
            // Code compiled in memory refers to all its host gave the compiler; what lies in the host's folder stays.
            var hostsReferences = HasNoFile(assembly);
            foreach (var name in assembly.GetReferencedAssemblies())
            {
                if (!seen.Add(name.FullName))
                    continue;
                var reference = TryLoad(context, name);
                // A reference nobody can load here cannot be shipped either; the engine may have it, or the
                // method may never touch it.
                if (reference is null || IsFramework(reference) || hostsReferences && InMemoryAssemblies.IsHost(reference))
                    continue;
                if (HasNoFile(reference) && InMemoryAssemblies.TryImageOf(reference) is null)
                    throw DelegateErrors.ReferenceWithoutFile(method, reference);
                if (queued.Add(reference))
                    pending.Enqueue(reference);
            }
        }
        var closure = new Closure(AssemblyClosure.Id(images.Select(i => i.Hash)), images);
        Closures.AddOrUpdate(root, closure);
        return closure;
    }

    private static AssemblyImage ImageOf(MethodInfo method, Assembly assembly)
    {
        if (Images.TryGetValue(assembly, out var image))
            return image;
        // Only assemblies CheckMethod and AssembliesFor let through come here: a file, or an image its host gave.
        byte[] bytes;
        if (HasNoFile(assembly))
        {
            bytes = InMemoryAssemblies.TryImageOf(assembly)!;
            if (ImageMatch.Difference(assembly, bytes) is { } difference)
                throw DelegateErrors.ImageNotLoaded(method, assembly, difference);
        }
        else
        {
            bytes = File.ReadAllBytes(assembly.Location);
        }
        image = new AssemblyImage(Convert.ToHexStringLower(SHA256.HashData(bytes)), assembly.FullName!, bytes);
        Images.AddOrUpdate(assembly, image);
        return image;
    }

    internal static bool IsFramework(Assembly assembly)
    {
        var location = assembly.Location;
        if (string.IsNullOrEmpty(location))
            return false;
        return SharedRoot is not null
            ? location.StartsWith(SharedRoot, StringComparison.Ordinal)
            : string.Equals(Path.GetDirectoryName(location), RuntimeDirectory, StringComparison.Ordinal) &&
              assembly.GetName().GetPublicKeyToken() is [0xb0, 0x3f, 0x5f, 0x7f, 0x11, 0xd5, 0x0a, 0x3a] or [0xcc, 0x7b, 0x13, 0xff, 0xcd, 0x2d, 0xdd, 0x51] or [0x7c, 0xec, 0x85, 0xd7, 0xbe, 0xa7, 0x79, 0x8e];
    }

    private static Assembly? TryLoad(AssemblyLoadContext context, AssemblyName name)
    {
        try
        {
            return context.LoadFromAssemblyName(name);
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            return null;
        }
    }

    /// <summary>A declaring assembly's closure: its images, and the <see cref="AssemblyClosure"/> id tasks name them by.</summary>
    private sealed record Closure(string Id, IReadOnlyList<AssemblyImage> Images);
}

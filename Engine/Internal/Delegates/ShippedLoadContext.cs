using System.Reflection;
using System.Runtime.Loader;

namespace CapCluster.Engine.Internal.Delegates;

/// <summary>
/// A collectible context for shipped assemblies. A reference resolves to the assembly the engine itself
/// already runs with the same full name (framework, CapCluster, shared libraries: one type identity), else
/// to a shipped image by simple name and version, else to the default context's probing.
/// </summary>
internal sealed class ShippedLoadContext(Func<AssemblyName, ShippedImage?> findImage)
    : AssemblyLoadContext("shipped", isCollectible: true)
{
    private Func<AssemblyName, ShippedImage?>? _findImage = findImage;

    public Assembly LoadImage(ShippedImage image)
    {
        using var stream = new MemoryStream(image.Bytes, writable: false);
        return LoadFromStream(stream);
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (Default.Assemblies.Any(a => AssemblyName.ReferenceMatchesDefinition(assemblyName, a.GetName()) &&
                                        a.GetName().Version == assemblyName.Version))
            return null;
        var image = _findImage?.Invoke(assemblyName);
        return image is null ? null : LoadImage(image);
    }

    /// <summary>Drops the link back to the runner's images, then unloads (a strong self-reference would pin it).</summary>
    public void Release()
    {
        _findImage = null;
        Unload();
    }
}

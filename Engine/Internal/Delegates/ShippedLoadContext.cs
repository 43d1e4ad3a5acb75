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

    /// <summary>Whether a reference to <paramref name="fullName"/> resolves to an assembly the engine itself runs (see <see cref="Load"/>).</summary>
    public static bool RunsItself(string fullName)
    {
        AssemblyName name;
        try
        {
            name = new AssemblyName(fullName);
        }
        catch (Exception e) when (e is ArgumentException or FileLoadException)
        {
            return false; // no name, or not one: the image is asked for, and read for its real name
        }

        return RunsItself(name);
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (RunsItself(assemblyName))
            return null;
        var image = _findImage?.Invoke(assemblyName);
        return image is null ? null : LoadImage(image);
    }

    private static bool RunsItself(AssemblyName reference) =>
        Default.Assemblies.Any(a => AssemblyName.ReferenceMatchesDefinition(reference, a.GetName()) && a.GetName().Version == reference.Version);

    /// <summary>Drops the link back to the runner's images, then unloads (a strong self-reference would pin it).</summary>
    public void Release()
    {
        _findImage = null;
        Unload();
    }
}

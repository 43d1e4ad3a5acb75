using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Security.Cryptography;

namespace CapCluster.Engine.Internal.Delegates;

/// <summary>
/// Runs delegates shipped by clients: holds the assembly images it was sent (by SHA-256), loads them into a
/// collectible <see cref="AssemblyLoadContext"/> named "shipped", rebuilds the closure from the captured
/// values, and invokes the method.
/// </summary>
internal sealed partial class DelegateRunner : IDisposable
{
    private const BindingFlags AnyInstance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
    private const BindingFlags AnyStatic = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, ShippedImage> _images = new(StringComparer.Ordinal);
    // Assemblies of the current context, by image hash; cleared before that context is unloaded.
    private readonly Dictionary<string, Assembly> _loaded = new(StringComparer.Ordinal);
    private ShippedLoadContext? _context;

    public DelegateRunner() => _context = new ShippedLoadContext(FindImage);

    /// <summary>The context shipped code currently loads into (tests watch it unload).</summary>
    internal AssemblyLoadContext Context
    {
        get
        {
            lock (_gate)
                return _context ?? throw new ObjectDisposedException(nameof(DelegateRunner));
        }
    }

    /// <summary>The hashes among <paramref name="hashes"/> whose images this engine has not been sent yet.</summary>
    public IReadOnlyList<string> MissingAssemblies(IEnumerable<string> hashes)
    {
        lock (_gate)
            return [.. hashes.Select(h => h.ToLowerInvariant()).Distinct().Where(h => !_images.ContainsKey(h))];
    }

    /// <summary>Keeps an image for later loads, after checking that its bytes hash to <paramref name="hash"/>.</summary>
    public void AddAssembly(string hash, ReadOnlyMemory<byte> bytes)
    {
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes.Span));
        if (!string.Equals(actual, hash, StringComparison.OrdinalIgnoreCase))
            throw DelegateRunnerErrors.HashMismatch(hash, actual);
        // A copy: the sender's buffer may be pooled, and the image outlives this call.
        var image = ShippedImage.Read(actual, bytes.ToArray());
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_context is null, this);
            _images.TryAdd(actual, image);
        }
    }

    /// <summary>Unloads the shipped code; it is collected once nothing it created is still referenced.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _loaded.Clear();
            _images.Clear();
            _context?.Release();
            _context = null;
        }
    }

    /// <summary>The declaring assembly of a call, loaded into the current context.</summary>
    private Assembly LoadShipped(string hash)
    {
        hash = hash.ToLowerInvariant();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_context is null, this);
            if (_loaded.TryGetValue(hash, out var assembly))
                return assembly;
            var image = _images.GetValueOrDefault(hash) ?? throw DelegateRunnerErrors.UnknownAssembly(hash);

            // A rebuilt client assembly usually keeps its name and version, and one context cannot hold two
            // assemblies of the same name: start a new context. The old one unloads when the last object
            // created by its code dies.
            if (_context.Assemblies.Any(a => AssemblyName.ReferenceMatchesDefinition(a.GetName(), image.Name)))
            {
                _loaded.Clear();
                _context.Release();
                _context = new ShippedLoadContext(FindImage);
            }
            assembly = _context.LoadImage(image);
            _loaded.Add(hash, assembly);
            return assembly;
        }
    }

    /// <summary>A shipped image for a reference, by simple name and version; the latest sent wins a tie.</summary>
    private ShippedImage? FindImage(AssemblyName reference)
    {
        lock (_gate)
        {
            return _images.Values.LastOrDefault(i =>
                string.Equals(i.Name.Name, reference.Name, StringComparison.OrdinalIgnoreCase) &&
                (reference.Version is null || i.Name.Version == reference.Version));
        }
    }

    private static object NewInstance(Type type) =>
        type.GetConstructor(AnyInstance, Type.EmptyTypes) is not null
            ? Activator.CreateInstance(type, nonPublic: true)!
            : RuntimeHelpers.GetUninitializedObject(type);
}

using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Security.Cryptography;
using CapCluster.Protocol;

namespace CapCluster.Engine.Internal.Delegates;

/// <summary>
/// Runs delegates shipped by clients: holds the assembly images it was sent (by SHA-256) and the assembly closures
/// tasks name them by, loads them into a collectible <see cref="AssemblyLoadContext"/> named "shipped", rebuilds the
/// closure object from the captured values, and invokes the method.
/// </summary>
internal sealed partial class DelegateRunner : IDisposable
{
    private const BindingFlags AnyInstance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
    private const BindingFlags AnyStatic = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, ShippedImage> _images = new(StringComparer.Ordinal);
    // Whether a dependency's claimed name is that of an assembly the engine runs itself (see MissingAssemblies), by the
    // name as sent. The answer depends on the name alone, never on a hash, so one caller's claim decides nothing for
    // another's call. Bounded: past NameCacheLimit names, or for a name longer than any assembly's, it is looked up
    // every time.
    private readonly Dictionary<string, bool> _runsItself = new(StringComparer.Ordinal);
    private const int NameCacheLimit = 1024;
    private const int NameLengthLimit = 1024;
    // Assembly closures by id: their image hashes, lowercase, declaring assembly first (one array per closure, never changed).
    private readonly Dictionary<string, string[]> _closures = new(StringComparer.Ordinal);
    // Assemblies of the current context, by image hash; cleared before that context is unloaded.
    private readonly Dictionary<string, Assembly> _loaded = new(StringComparer.Ordinal);
    // Methods of the current context's assemblies, resolved and checked (see Resolve); cleared with _loaded.
    private readonly Dictionary<(Assembly Assembly, int Token), ResolvedMethod> _methods = [];
    // The image each simple name resolves to in the current context: the one a call loading into it named (by hash).
    private readonly Dictionary<string, string> _bindings = new(StringComparer.OrdinalIgnoreCase);
    // The assembly hashes of the last call that bound names in the current context (null after a new context).
    private IReadOnlyList<string>? _lastCall;
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

    /// <summary>
    /// The hashes among <paramref name="members"/> (a call's assemblies, with the names the client gives them) whose
    /// images this engine needs and has not been sent yet. A dependency, any member but <paramref name="declaring"/>,
    /// that the engine runs itself (the same name and version loaded in its own context: CapCluster's libraries, gRPC,
    /// Protobuf) is not needed: references to it resolve to the engine's copy whatever image was sent
    /// (<see cref="ShippedLoadContext"/>), so its bytes were only stored. Measured: a client's first apply shipped
    /// 2.2 MB to each engine, its own 11 KB assembly and 190 KB of CapCluster.Client among them. Decided per call,
    /// from the names this call gives: a hash one caller named as such a library is still asked of a caller who names
    /// it as another.
    /// </summary>
    public IReadOnlyList<string> MissingAssemblies(IEnumerable<(string Hash, string Name)> members, string declaring)
    {
        var missing = new List<string>();
        lock (_gate)
        {
            foreach (var (member, name) in members)
            {
                var hash = member.ToLowerInvariant();
                // The declaring assembly is loaded from its image, whatever name it claims.
                var isDeclaring = string.Equals(hash, declaring, StringComparison.OrdinalIgnoreCase);
                if (!_images.ContainsKey(hash) && !missing.Contains(hash) && (isDeclaring || !RunsItself(name)))
                    missing.Add(hash);
            }
        }
        return missing;
    }

    // Under _gate.
    private bool RunsItself(string name)
    {
        if (_runsItself.TryGetValue(name, out var known))
            return known;
        var runs = ShippedLoadContext.RunsItself(name);
        if (_runsItself.Count < NameCacheLimit && name.Length <= NameLengthLimit)
            _runsItself[name] = runs;
        return runs;
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

    /// <summary>
    /// Keeps the assembly closure <paramref name="id"/>, after checking that <paramref name="hashes"/> hash to it and that
    /// this engine holds every image they name; returns its hashes, as <see cref="Closure"/> will.
    /// </summary>
    public IReadOnlyList<string> AddClosure(string id, IReadOnlyList<string> hashes)
    {
        var actual = AssemblyClosure.Id(hashes);
        if (!string.Equals(actual, id, StringComparison.OrdinalIgnoreCase))
            throw DelegateRunnerErrors.WrongClosure(id, actual);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_context is null, this);
            if (_closures.TryGetValue(actual, out var known))
                return known;
            string[] members = [.. hashes.Select(h => h.ToLowerInvariant())];
            if (members.Where(h => !_images.ContainsKey(h)).Distinct().ToList() is { Count: > 0 } missing)
                throw DelegateRunnerErrors.ClosureLacks(actual, missing);
            _closures.Add(actual, members);
            return members;
        }
    }

    /// <summary>The image hashes of assembly closure <paramref name="id"/>, declaring assembly first: one lookup per task.</summary>
    public IReadOnlyList<string> Closure(string id)
    {
        lock (_gate)
            return _closures.GetValueOrDefault(id) ?? _closures.GetValueOrDefault(id.ToLowerInvariant()) ?? throw DelegateRunnerErrors.UnknownClosure(id);
    }

    /// <summary>Unloads the shipped code; it is collected once nothing it created is still referenced.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _loaded.Clear();
            _methods.Clear();
            _bindings.Clear();
            _lastCall = null;
            _images.Clear();
            _closures.Clear();
            _context?.Release();
            _context = null;
        }
    }

    /// <summary>
    /// The declaring assembly of a call (the first of <paramref name="hashes"/>), loaded into a context where every
    /// shipped assembly the call names resolves to exactly the image it names: a dependency resolves by hash, never
    /// by simple name among all images sent, so one holder's upload cannot stand in for another's.
    /// </summary>
    private Assembly LoadShipped(IReadOnlyList<string> hashes)
    {
        var hash = hashes[0].ToLowerInvariant();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_context is null, this);

            // The common case, a task like the last one: its assembly is loaded and its names bound to the same images
            // (a task naming the same closure passes the same array).
            if (_loaded.TryGetValue(hash, out var known) && _lastCall is { } last &&
                (ReferenceEquals(last, hashes) || last.SequenceEqual(hashes, StringComparer.OrdinalIgnoreCase)))
                return known;
            var image = _images.GetValueOrDefault(hash) ?? throw DelegateRunnerErrors.UnknownAssembly(hash);
            var named = hashes.Select(h => _images.GetValueOrDefault(h.ToLowerInvariant())).OfType<ShippedImage>().ToList();

            // One context holds one assembly per name: a call naming another image for a name bound here (a rebuilt
            // client assembly keeps its name and version, or another holder's library) starts a new context. The old
            // one unloads when the last object created by its code dies.
            if (named.Any(i => _bindings.TryGetValue(i.Name.Name!, out var bound) && bound != i.Hash))
            {
                _loaded.Clear();
                _methods.Clear();
                _bindings.Clear();
                _lastCall = null;
                _context.Release();
                _context = new ShippedLoadContext(FindImage);
            }

            foreach (var each in named)
            {
                _bindings[each.Name.Name!] = each.Hash;
            }

            // Kept as it is (callers never change a list they passed): the next task naming the same closure passes it again.
            _lastCall = hashes;
            if (_loaded.TryGetValue(hash, out var assembly))
                return assembly;
            assembly = _context.LoadImage(image);
            _loaded.Add(hash, assembly);
            return assembly;
        }
    }

    /// <summary>
    /// Another assembly of the call <see cref="LoadShipped"/> just bound (a delegate it reads may be a method of one): the
    /// one its name resolves to in the current context, which is that image or, for one the engine runs itself, the engine's.
    /// </summary>
    private Assembly LoadMember(string hash)
    {
        ShippedLoadContext context;
        AssemblyName name;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_context is null, this);
            context = _context;
            name = (_images.GetValueOrDefault(hash.ToLowerInvariant()) ?? throw DelegateRunnerErrors.UnknownAssembly(hash)).Name;
        }
        // Outside the lock: resolving a name in the context asks FindImage, which takes it.
        return context.LoadFromAssemblyName(name);
    }

    /// <summary>The shipped image a reference resolves to in the current context: the one bound to its name, of its version.</summary>
    private ShippedImage? FindImage(AssemblyName reference)
    {
        lock (_gate)
        {
            return reference.Name is { } name && _bindings.TryGetValue(name, out var hash) && _images.TryGetValue(hash, out var image)
                && (reference.Version is null || image.Name.Version == reference.Version)
                ? image
                : null;
        }
    }

    private static object NewInstance(Type type) =>
        type.GetConstructor(AnyInstance, Type.EmptyTypes) is not null
            ? Activator.CreateInstance(type, nonPublic: true)!
            : RuntimeHelpers.GetUninitializedObject(type);
}

using System.Security.Cryptography;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// Shipped assemblies by content hash, and the closures delegate tasks name them by. A client's stream lists a
/// closure's assemblies (with the images it has not sent yet) in the first task naming it; the store checks the list
/// against the closure id and keeps images and closure, so that every task is one closure id, resolved by one lookup.
/// The first task sent to an engine that names a closure lists it again, with the images that engine has not had yet.
/// Images and closures are content-addressed and checked, so whoever sends them cannot make a hash or an id stand for
/// anything but what it hashes; any holder may name what the controller keeps.
/// </summary>
/// <param name="maxBytesPerCapability">
/// The most image bytes one capability may have the controller keep (an image is charged to the capability that sent it
/// first; one already kept costs nothing): images stay for the tasks that name them, so without this a holder could make
/// the controller keep any number of them.
/// </param>
internal sealed class AssemblyStore(long maxBytesPerCapability)
{
    // Distinct declaring types and shared calls kept at most; past it they are simply not shared.
    private const int MaxShared = 10_000;

    // Image bytes kept, by the capability that sent them first (since this controller started).
    private readonly Dictionary<string, long> charged = new(StringComparer.Ordinal);

    private readonly Dictionary<string, ByteString> images = new(StringComparer.Ordinal);
    // Each closure's assemblies, image-less, declaring assembly first.
    private readonly Dictionary<string, AssemblyRef[]> closures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> names = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Type, int Token, bool IsStatic, string Closure), DelegateCall> calls = [];

    /// <summary>
    /// Checks a submitted spec's functions before the farm's lock (it hashes images): every hash and closure id is 64
    /// hex digits, every image hashes to the hash it is sent under (or its sender could stand in for whoever ships that
    /// assembly), and listed assemblies hash to the closure they are listed for. A list without a closure id (a client
    /// that lists assemblies with every task) gets its id here. Returns why the spec is refused, or null.
    /// </summary>
    public static string? Check(TaskSpec spec)
    {
        for (var each = spec; each is not null; each = each.Recovery)
        {
            if (each.Function?.Function is not { } call)
            {
                continue;
            }

            if (call.Assemblies.Count == 0)
            {
                if (!AssemblyClosure.IsHash(call.Closure))
                {
                    return call.Closure.Length == 0
                        ? "the function names no assemblies: list them, or name their closure"
                        : $"'{AssemblyClosure.Shown(call.Closure)}' is not an assembly closure id (64 hex digits)";
                }

                // Returns the same string when it is lowercase already, as clients send it.
                call.Closure = call.Closure.ToLowerInvariant();
                continue;
            }

            foreach (var reference in call.Assemblies)
            {
                if (!AssemblyClosure.IsHash(reference.Hash))
                {
                    return $"assembly {Named(reference)} is sent under '{AssemblyClosure.Shown(reference.Hash)}', which is not a SHA-256 hash (64 hex digits)";
                }

                if (!reference.Image.IsEmpty)
                {
                    var actual = Convert.ToHexStringLower(SHA256.HashData(reference.Image.Span));
                    if (!string.Equals(actual, reference.Hash, StringComparison.OrdinalIgnoreCase))
                    {
                        return $"the image sent as assembly {Named(reference)} hashes to {actual}, not to the {reference.Hash} it claims";
                    }
                }
            }

            var id = AssemblyClosure.Id(call.Assemblies.Select(a => a.Hash));
            if (call.Closure.Length > 0 && !string.Equals(call.Closure, id, StringComparison.OrdinalIgnoreCase))
            {
                return $"the assemblies listed for closure {AssemblyClosure.Shown(call.Closure)} hash to closure {id}, not to it";
            }

            call.Closure = id;
        }

        return null;
    }

    /// <summary>
    /// Takes a checked spec (see <see cref="Check"/>) in, under the farm's lock: keeps the images and closures it lists
    /// (recording the new ones in <paramref name="added"/>, for the journal), and leaves each function only its closure
    /// id, with shared instances of what repeats from task to task (its type name; the whole function when it captures
    /// nothing). The spec is changed in place (it belongs to the farm); what is shared is never changed afterwards (see
    /// <see cref="Attach"/>). New images are charged to <paramref name="sender"/> (null: read back from the journal, not
    /// charged). Returns why the spec is refused (a closure or an image this controller was never sent, or images past the
    /// sender's budget), or null. A spec refused for another reason may still be taken: what it lists is kept for the
    /// tasks that follow it.
    /// </summary>
    public string? Take(TaskSpec spec, AssemblyRecords? added, string? sender)
    {
        for (var each = spec; each is not null; each = each.Recovery)
        {
            if (each.Function is not { Function: { } call } apply)
            {
                continue;
            }

            if (call.Assemblies.Count > 0)
            {
                if (Learn(call, added, sender) is { } refusal)
                {
                    return refusal;
                }

                call.Assemblies.Clear();
            }
            else if (!closures.ContainsKey(call.Closure))
            {
                return $"the function names assembly closure {call.Closure}, which this controller was never sent: " +
                    "a task stream lists a closure's assemblies with the first task that names it";
            }

            call.DeclaringType = Shared(call.DeclaringType);
            if (call.Captured.Count == 0 && call.Delegates.Count == 0)
            {
                apply.Function = SharedCall(call);
            }
        }

        return null;
    }

    /// <summary>What the journal kept, read back at a restart (before any spec is taken in).</summary>
    public void Restore(AssemblyRecords records)
    {
        foreach (var (hash, image, owner) in records.Images)
        {
            // Charged again to whoever sent it first, so a restart does not give a holder its budget anew.
            if (images.TryAdd(hash, image) && owner is not null)
            {
                charged[owner] = charged.GetValueOrDefault(owner) + image.Length;
            }
        }

        foreach (var (id, hashes) in records.Closures)
        {
            // A damaged row is left out: the tasks naming it fail, saying so, rather than run something else.
            if (hashes.All(images.ContainsKey) && hashes.Count > 0 && string.Equals(AssemblyClosure.Id(hashes), id, StringComparison.Ordinal))
            {
                closures[id] = [.. hashes.Select(h => new AssemblyRef { Hash = h })];
            }
        }
    }

    /// <summary>
    /// The apply request to send to an engine: as stored when the engine had its closure already, else a copy listing the
    /// closure's assemblies, with the images the engine has not had yet.
    /// </summary>
    public ApplyRequest Attach(ApplyRequest apply, Sent sent)
    {
        var closure = apply.Function.Closure;
        if (sent.Closures.Contains(closure) || !closures.TryGetValue(closure, out var members))
        {
            return apply;
        }

        // A copy: the stored function may be shared with other tasks.
        var copy = apply.Clone();
        foreach (var member in members)
        {
            copy.Function.Assemblies.Add(!sent.Images.Contains(member.Hash) && images.TryGetValue(member.Hash, out var image)
                ? new AssemblyRef { Hash = member.Hash, Name = member.Name, Image = image }
                : member);
            sent.Images.Add(member.Hash);
        }

        sent.Closures.Add(closure);
        return copy;
    }

    /// <summary>Keeps the images and the closure a function lists; refuses a closure with an assembly no one sent.</summary>
    private string? Learn(DelegateCall call, AssemblyRecords? added, string? sender)
    {
        if (sender is not null && Charge(call, sender) is { } overBudget)
        {
            return overBudget;
        }

        foreach (var reference in call.Assemblies)
        {
            if (!reference.Image.IsEmpty && images.TryAdd(reference.Hash.ToLowerInvariant(), reference.Image))
            {
                added?.Images.Add((reference.Hash.ToLowerInvariant(), reference.Image, sender));
            }
        }

        if (closures.ContainsKey(call.Closure))
        {
            return null;
        }

        var members = new AssemblyRef[call.Assemblies.Count];
        for (var i = 0; i < members.Length; i++)
        {
            var reference = call.Assemblies[i];
            var hash = reference.Hash.ToLowerInvariant();
            if (!images.ContainsKey(hash))
            {
                return $"assembly {Named(reference)} ({hash}) of closure {call.Closure} was never sent to this controller: " +
                    "its image comes with the first task on a stream that needs it";
            }

            members[i] = new AssemblyRef { Hash = hash, Name = reference.Name };
        }

        closures[call.Closure] = members;
        added?.Closures.Add((call.Closure, [.. members.Select(m => m.Hash)]));
        return null;
    }

    /// <summary>Charges the images of <paramref name="call"/> not kept yet to <paramref name="sender"/>, or says why they pass its budget (nothing charged then).</summary>
    private string? Charge(DelegateCall call, string sender)
    {
        long bytes = 0;
        var counted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var reference in call.Assemblies)
        {
            var hash = reference.Hash.ToLowerInvariant();
            if (!reference.Image.IsEmpty && !images.ContainsKey(hash) && counted.Add(hash))
            {
                bytes += reference.Image.Length;
            }
        }

        if (bytes == 0)
        {
            return null;
        }

        var used = charged.GetValueOrDefault(sender);
        if (used + bytes > maxBytesPerCapability)
        {
            return $"capability {sender} has had the controller keep {used} bytes of assembly images, and the {bytes} more of closure " +
                $"{AssemblyClosure.Shown(call.Closure)} would pass its budget of {maxBytesPerCapability} (--max-assembly-bytes)";
        }

        charged[sender] = used + bytes;
        return null;
    }

    private static string Named(AssemblyRef reference) => reference.Name.Length > 0 ? reference.Name : "(unnamed)";

    private DelegateCall SharedCall(DelegateCall function)
    {
        var key = (function.DeclaringType, function.MethodToken, function.IsStatic, function.Closure);
        if (calls.TryGetValue(key, out var shared) && shared.Equals(function))
        {
            return shared;
        }

        if (calls.Count < MaxShared || calls.ContainsKey(key))
        {
            calls[key] = function;
        }

        return function;
    }

    private string Shared(string name)
    {
        if (names.TryGetValue(name, out var shared))
        {
            return shared;
        }

        if (names.Count < MaxShared)
        {
            names[name] = name;
        }

        return name;
    }

    /// <summary>What the controller has sent one engine: closures listed, and images.</summary>
    public sealed class Sent
    {
        public HashSet<string> Closures { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Images { get; } = new(StringComparer.Ordinal);
    }
}

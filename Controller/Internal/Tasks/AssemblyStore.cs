using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// Shipped assemblies by content hash. A client sends an image once; the controller keeps it and
/// attaches it to the first task it sends to each engine that has not had it yet.
/// </summary>
internal sealed class AssemblyStore
{
    // Distinct declaring types interned at most; past it names are simply not shared.
    private const int MaxSharedNames = 10_000;

    private readonly Dictionary<string, ByteString> images = [];
    private readonly Dictionary<string, AssemblyRef> references = [];
    private readonly Dictionary<string, string> names = [];
    private readonly Dictionary<(string Type, int Token, bool IsStatic, string Root), DelegateCall> calls = [];

    /// <summary>
    /// Takes the images out of a spec (keeping them here) so stored tasks hold only hashes. The spec's
    /// assembly references and type name are replaced by shared instances: every task of a burst names the
    /// same few assemblies, and queued tasks should not each hold copies of their hash and name strings.
    /// A function that captures nothing is the same for every task that runs it (only the arguments differ):
    /// such tasks share one description of it. The spec is changed in place (it was just parsed from a
    /// submission and belongs to the farm); what is shared is never changed afterwards (see <see cref="Attach"/>).
    /// </summary>
    /// <param name="spec">The submitted spec.</param>
    /// <param name="added">Receives the images this store had not seen before (for the journal), or null.</param>
    public TaskSpec Strip(TaskSpec spec, List<(string Hash, ByteString Image)>? added = null)
    {
        if (spec.Function is { Function: { } function } apply)
        {
            var assemblies = function.Assemblies;
            for (var i = 0; i < assemblies.Count; i++)
            {
                var reference = assemblies[i];
                if (!reference.Image.IsEmpty)
                {
                    if (images.TryAdd(reference.Hash, reference.Image))
                    {
                        added?.Add((reference.Hash, reference.Image));
                    }
                }

                assemblies[i] = Shared(reference);
            }

            function.DeclaringType = Shared(function.DeclaringType);
            if (function.Captured.Count == 0 && assemblies.Count > 0)
            {
                apply.Function = SharedCall(function);
            }
        }

        if (spec.Recovery is not null)
        {
            spec.Recovery = Strip(spec.Recovery, added);
        }

        return spec;
    }

    /// <summary>
    /// Why a spec's shipped images cannot be kept: one does not hash (SHA-256) to the hash it is sent under, which
    /// would let its sender stand in for whoever ships the assembly with that hash. Null when all match.
    /// </summary>
    public static string? WrongImage(TaskSpec spec)
    {
        foreach (var reference in spec.Function?.Function?.Assemblies ?? [])
        {
            if (!reference.Image.IsEmpty)
            {
                var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(reference.Image.Span));
                if (!string.Equals(actual, reference.Hash, StringComparison.OrdinalIgnoreCase))
                {
                    return $"the image sent as assembly {(reference.Name.Length > 0 ? reference.Name : "(unnamed)")} hashes to {actual}, not to the {AuditText(reference.Hash)} it claims";
                }
            }
        }

        return spec.Recovery is { } recovery ? WrongImage(recovery) : null;
    }

    private static string AuditText(string hash) => hash.Length <= 64 ? hash : hash[..64] + "...";

    /// <summary>An image read back from the journal at a restart.</summary>
    public void Restore(string hash, ByteString image) => images[hash] = image;

    /// <summary>The apply request with images attached for the assemblies <paramref name="sent"/> does not list yet.</summary>
    public ApplyRequest Attach(ApplyRequest apply, HashSet<string> sent)
    {
        if (apply.Function.Assemblies.All(a => sent.Contains(a.Hash)))
        {
            return apply;
        }

        // A copy: the references in the stored spec are shared with other tasks.
        var copy = apply.Clone();
        foreach (var reference in copy.Function.Assemblies.Where(a => !sent.Contains(a.Hash)))
        {
            if (images.TryGetValue(reference.Hash, out var image))
            {
                reference.Image = image;
                sent.Add(reference.Hash);
            }
        }

        return copy;
    }

    /// <summary>
    /// One image-less reference per (hash, name): a hash names an image, so the pair repeats exactly. A task
    /// client names an assembly only with its image, then by hash alone: the shared reference restores the name.
    /// </summary>
    private AssemblyRef Shared(AssemblyRef reference)
    {
        if (references.TryGetValue(reference.Hash, out var shared) && (reference.Name.Length == 0 || shared.Name == reference.Name))
        {
            return shared;
        }

        shared = new AssemblyRef { Hash = reference.Hash, Name = reference.Name };
        if (images.ContainsKey(reference.Hash) && references.Count < MaxSharedNames)
        {
            references[reference.Hash] = shared;
        }

        return shared;
    }

    private DelegateCall SharedCall(DelegateCall function)
    {
        var key = (function.DeclaringType, function.MethodToken, function.IsStatic, function.Assemblies[0].Hash);
        if (calls.TryGetValue(key, out var shared) && shared.Equals(function))
        {
            return shared;
        }

        if (calls.Count < MaxSharedNames || calls.ContainsKey(key))
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

        if (names.Count < MaxSharedNames)
        {
            names[name] = name;
        }

        return name;
    }
}

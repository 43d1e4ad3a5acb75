using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// Shipped assemblies by content hash. A client sends an image once; the controller keeps it and
/// attaches it to the first task it sends to each engine that has not had it yet.
/// </summary>
internal sealed class AssemblyStore
{
    private readonly Dictionary<string, ByteString> images = [];

    /// <summary>Takes the images out of a spec (keeping them here) so stored tasks hold only hashes.</summary>
    public TaskSpec Strip(TaskSpec spec)
    {
        if (spec.Function?.Function is { } function && function.Assemblies.Any(a => !a.Image.IsEmpty))
        {
            spec = spec.Clone();
            foreach (var reference in spec.Function.Function.Assemblies.Where(a => !a.Image.IsEmpty))
            {
                images[reference.Hash] = reference.Image;
                reference.Image = ByteString.Empty;
            }
        }

        if (spec.Recovery is not null)
        {
            spec.Recovery = Strip(spec.Recovery);
        }

        return spec;
    }

    /// <summary>The apply request with images attached for the assemblies <paramref name="sent"/> does not list yet.</summary>
    public ApplyRequest Attach(ApplyRequest apply, HashSet<string> sent)
    {
        if (apply.Function.Assemblies.All(a => sent.Contains(a.Hash)))
        {
            return apply;
        }

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
}

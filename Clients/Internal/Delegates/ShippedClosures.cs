using System.Collections.Concurrent;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Client.Internal.Delegates;

/// <summary>
/// The assembly closures a task client's delegate tasks name. A task names its assemblies by one closure id, whatever
/// their number (a caller referencing this library brings gRPC, Protobuf and logging along): each stream lists a
/// closure's assemblies once, in the first task that names it, and sends each image once. The controller keeps them
/// (in its journal too) and checks the list against the id. A new stream (after a reconnection, perhaps to a
/// controller restarted without its journal) lists them again.
/// </summary>
internal sealed class ShippedClosures
{
    // Closures this client's tasks have named, by id: what a stream lists for each.
    private readonly ConcurrentDictionary<string, IReadOnlyList<AssemblyImage>> closures = new(StringComparer.Ordinal);

    /// <summary>The closure id a task names <paramref name="package"/>'s assemblies by.</summary>
    public string Name(DelegatePackage package)
    {
        closures.TryAdd(package.ClosureId, package.Assemblies);
        return package.ClosureId;
    }

    /// <summary>What a new stream lists: nothing yet.</summary>
    public Listing OnStream() => new(this);

    /// <summary>What one stream has listed: closure ids, and the hashes of the images it carried. Used by the stream's writer only.</summary>
    public sealed class Listing(ShippedClosures shipped)
    {
        private readonly HashSet<string> listed = new(StringComparer.Ordinal);
        private readonly HashSet<string> images = new(StringComparer.Ordinal);

        /// <summary>
        /// The spec to send for <paramref name="spec"/>: listing, in it (and its recovery task), the assemblies of a closure
        /// this stream has not listed yet, with the images it has not sent yet, and nothing for one it has; just before the
        /// task leaves. The spec and its requests may be shared with other tasks (see TaskClient.ToSpec): when anything
        /// must change, it changes in a copy, which is returned; otherwise <paramref name="spec"/> itself.
        /// </summary>
        public TaskSpec List(TaskSpec spec)
        {
            var sent = spec;
            var depth = 0;
            for (var each = spec; each is not null; each = each.Recovery, depth++)
            {
                if (each.Function?.Function is not { Closure.Length: > 0 } call)
                {
                    continue;
                }

                // What an earlier stream listed here, if the task goes again on this one (it could not be sent there), goes.
                var first = listed.Add(call.Closure);
                if (!first && call.Assemblies.Count == 0)
                {
                    continue;
                }

                if (ReferenceEquals(sent, spec))
                {
                    sent = spec.Clone();
                    each = sent;
                    for (var i = 0; i < depth; i++)
                    {
                        each = each.Recovery;
                    }

                    call = each.Function.Function;
                }

                call.Assemblies.Clear();
                if (first)
                {
                    foreach (var image in shipped.closures[call.Closure])
                    {
                        call.Assemblies.Add(images.Add(image.Hash)
                            ? new AssemblyRef { Hash = image.Hash, Name = image.Name, Image = UnsafeByteOperations.UnsafeWrap(image.Bytes) }
                            : new AssemblyRef { Hash = image.Hash });
                    }
                }
            }

            return sent;
        }
    }
}

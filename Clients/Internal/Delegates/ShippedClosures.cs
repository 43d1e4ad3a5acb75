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
        /// Lists, in <paramref name="spec"/> (and its recovery task), the assemblies of a closure this stream has not listed
        /// yet, with the images it has not sent yet, and nothing for one it has; just before the task leaves. The spec's
        /// request may be shared with other tasks (see TaskClient.ToApply): the list goes in a copy of its own.
        /// </summary>
        public void List(TaskSpec? spec)
        {
            for (; spec is not null; spec = spec.Recovery)
            {
                if (spec.Function?.Function is not { Closure.Length: > 0 } call)
                {
                    continue;
                }

                if (!listed.Add(call.Closure))
                {
                    if (call.Assemblies.Count > 0)
                    {
                        // What an earlier stream listed here, if the task goes again on this one (it could not be sent there).
                        spec.Function = WithAssemblies(spec.Function, []);
                    }

                    continue;
                }

                spec.Function = WithAssemblies(spec.Function, shipped.closures[call.Closure].Select(image => images.Add(image.Hash)
                    ? new AssemblyRef { Hash = image.Hash, Name = image.Name, Image = UnsafeByteOperations.UnsafeWrap(image.Bytes) }
                    : new AssemblyRef { Hash = image.Hash }));
            }
        }

        private static ApplyRequest WithAssemblies(ApplyRequest apply, IEnumerable<AssemblyRef> assemblies)
        {
            var copy = apply.Clone();
            copy.Function.Assemblies.Clear();
            copy.Function.Assemblies.AddRange(assemblies);
            return copy;
        }
    }
}

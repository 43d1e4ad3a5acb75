using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;

namespace CapCluster.Client.Internal.Delegates;

/// <summary>
/// Whether an image a host gave for an in-memory assembly is that assembly as loaded: a delegate names its method by
/// metadata token, so an image compiled from other code, or from the same code with other references or options, would
/// run another method under the same token. Two emits of one compilation differ only in the module's MVID.
/// </summary>
internal static class ImageMatch
{
    /// <summary>Null when <paramref name="image"/> is <paramref name="loaded"/>; otherwise what differs.</summary>
    public static string? Difference(Assembly loaded, byte[] image)
    {
        using var pe = new PEReader(ImmutableCollectionsMarshal.AsImmutableArray(image));
        if (!pe.HasMetadata)
            return "the image has no metadata";
        var reader = pe.GetMetadataReader();
        if (RawMetadata(loaded) is not { } loadedMetadata)
            return "the loaded assembly's metadata cannot be read";

        // Every byte but the GUID heap, which holds the MVID, new at every emit.
        var imageMetadata = pe.GetMetadata().GetContent().AsSpan();
        var guids = reader.GetHeapMetadataOffset(HeapIndex.Guid);
        var afterGuids = guids + reader.GetHeapSize(HeapIndex.Guid);
        if (imageMetadata.Length != loadedMetadata.Length
            || !imageMetadata[..guids].SequenceEqual(loadedMetadata.AsSpan(0, guids))
            || !imageMetadata[afterGuids..].SequenceEqual(loadedMetadata.AsSpan(afterGuids)))
        {
            return "its metadata (types, members, signatures, strings) is not the loaded assembly's";
        }

        var module = loaded.ManifestModule;
        foreach (var handle in reader.MethodDefinitions)
        {
            var definition = reader.GetMethodDefinition(handle);
            if (definition.RelativeVirtualAddress == 0)
                continue;
            var il = pe.GetMethodBody(definition.RelativeVirtualAddress).GetILContent();
            var loadedIl = module.ResolveMethod(MetadataTokens.GetToken(handle))?.GetMethodBody()?.GetILAsByteArray();
            if (loadedIl is null || !il.AsSpan().SequenceEqual(loadedIl))
                return $"the code of its method {reader.GetString(definition.Name)} is not the loaded assembly's";
        }

        return null;
    }

    private static unsafe byte[]? RawMetadata(Assembly assembly) =>
        assembly.TryGetRawMetadata(out var blob, out var length) ? new ReadOnlySpan<byte>(blob, length).ToArray() : null;
}

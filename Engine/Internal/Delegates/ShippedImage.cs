using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.PortableExecutable;

namespace CapCluster.Engine.Internal.Delegates;

/// <summary>A verified assembly image the engine holds, with the name read from its own metadata.</summary>
internal sealed record ShippedImage(string Hash, AssemblyName Name, byte[] Bytes)
{
    /// <summary>Reads the assembly name from <paramref name="bytes"/>; throws if they are not an assembly.</summary>
    public static ShippedImage Read(string hash, byte[] bytes)
    {
        try
        {
            using var pe = new PEReader(ImmutableArray.Create(bytes));
            var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
            return new ShippedImage(hash, metadata.GetAssemblyDefinition().GetAssemblyName(), bytes);
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException)
        {
            throw DelegateRunnerErrors.NotAnAssembly(hash, e);
        }
    }
}

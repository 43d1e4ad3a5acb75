using CapCluster.Client.Internal.Delegates;
using CapCluster.Engine.Internal.Delegates;

namespace CapCluster.Engine.Tests.Delegates;

/// <summary>The client-to-engine path in one process, without the wire or the value codec.</summary>
internal static class Shipping
{
    /// <summary>Packages <paramref name="function"/>, sends the images the runner lacks, and invokes it there.</summary>
    public static object? RoundTrip(DelegateRunner runner, Delegate function, params object?[] arguments)
    {
        var package = DelegatePackager.Package(function);
        foreach (var hash in runner.MissingAssemblies(package.Assemblies.Select(a => (a.Hash, a.Name)), package.Assemblies[0].Hash))
            runner.AddAssembly(hash, package.Assemblies.Single(a => a.Hash == hash).Bytes);
        return runner.Invoke(
            [.. package.Assemblies.Select(a => a.Hash)],
            package.DeclaringTypeName,
            package.MethodToken,
            package.IsStatic,
            [.. package.Captured.Select(c => (c.FieldName, c.Value))],
            arguments,
            Identity,
            [.. package.DelegateMessages()]);
    }

    /// <summary>The tests send only framework-typed values, which need no conversion.</summary>
    public static object? Identity(object? value, Type type) => value;
}

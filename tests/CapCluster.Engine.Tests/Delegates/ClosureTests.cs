using CapCluster.Client.Internal.Delegates;
using CapCluster.Engine.Internal.Delegates;
using CapCluster.Engine.Tests.ShippedCode;
using CapCluster.Protocol;
using CapCluster.Security;

namespace CapCluster.Engine.Tests.Delegates;

/// <summary>A task names its assemblies by a closure id: listed once (checked against the id), then one lookup per task.</summary>
public sealed class ClosureTests
{
    [Fact]
    public void AddClosure_ThenClosure_GivesTheSameHashes_AndTasksInvokeThroughIt()
    {
        using var runner = new DelegateRunner();
        var package = DelegatePackager.Package(new Func<int, int>(Functions.Square));
        Send(runner, package);

        var listed = runner.AddClosure(package.ClosureId, [.. package.Assemblies.Select(a => a.Hash.ToUpperInvariant())]);
        var named = runner.Closure(package.ClosureId);

        Assert.Same(listed, named);
        Assert.Equal(package.Assemblies.Select(a => a.Hash), named);
        Assert.Equal(16, runner.Invoke(named, package.DeclaringTypeName, package.MethodToken, package.IsStatic, [], [4], Shipping.Identity));
        Assert.Equal(25, runner.Invoke(runner.Closure(package.ClosureId), package.DeclaringTypeName, package.MethodToken, package.IsStatic, [], [5], Shipping.Identity));
    }

    [Fact]
    public void AddClosure_HashesListedUnderAnotherId_IsRefusedNamingBoth()
    {
        using var runner = new DelegateRunner();
        var package = DelegatePackager.Package(new Func<int, int>(Functions.Square));
        Send(runner, package);
        var claimed = new string('c', 64);

        var e = Assert.Throws<CapClusterException>(() => runner.AddClosure(claimed, [.. package.Assemblies.Select(a => a.Hash)]));

        Assert.Contains(claimed, e.Message, StringComparison.Ordinal);
        Assert.Contains(package.ClosureId, e.Message, StringComparison.Ordinal);
        Assert.Contains("was not listed", Assert.Throws<CapClusterException>(() => runner.Closure(claimed)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddClosure_NamingAnImageNeverSent_IsRefusedNamingIt()
    {
        using var runner = new DelegateRunner();
        var package = DelegatePackager.Package(new Func<int, int>(Functions.Square));
        var missing = package.Assemblies[0].Hash;

        var e = Assert.Throws<CapClusterException>(() => runner.AddClosure(package.ClosureId, [.. package.Assemblies.Select(a => a.Hash)]));

        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.Throws<CapClusterException>(() => runner.Closure(package.ClosureId));
    }

    [Fact]
    public void Closure_NeverListed_IsRefused()
    {
        using var runner = new DelegateRunner();
        var id = AssemblyClosure.Id([new string('a', 64)]);

        var e = Assert.Throws<CapClusterException>(() => runner.Closure(id));

        Assert.Equal($"assembly closure {id} was not listed to this engine: the first task naming a closure lists its assemblies", e.Message);
    }

    private static void Send(DelegateRunner runner, DelegatePackage package)
    {
        foreach (var image in package.Assemblies)
            runner.AddAssembly(image.Hash, image.Bytes);
    }
}

using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using CapCluster.Client.Internal.Delegates;
using CapCluster.Engine.Internal.Delegates;
using CapCluster.Engine.Tests.ShippedCode;
using CapCluster.Protocol;
using CapCluster.Security;

namespace CapCluster.Engine.Tests.Delegates;

public sealed class DelegateRunnerTests
{
    [Fact]
    public void Invoke_StaticMethod_RunsFromTheShippedCollectibleContext()
    {
        using var runner = new DelegateRunner();

        Assert.Equal(16, Shipping.RoundTrip(runner, new Func<int, int>(Functions.Square), 4));
        Assert.Equal("shipped", Shipping.RoundTrip(runner, new Func<string>(Functions.LoadedFrom)));
        Assert.Equal(true, Shipping.RoundTrip(runner, new Func<bool>(Functions.RunsCollectible)));
        Assert.Single(runner.Context.Assemblies, a => a.GetName().Name == typeof(Functions).Assembly.GetName().Name);
        // The test process's own copy is another assembly, in the default context.
        Assert.False(typeof(Functions).Assembly.IsCollectible);
    }

    [Fact]
    public void Invoke_AMethodRunBefore_NamedWithAnotherTypeOrStaticness_IsStillRefused()
    {
        using var runner = new DelegateRunner();
        var function = new Func<int, int>(Functions.Square);
        Assert.Equal(16, Shipping.RoundTrip(runner, function, 4));
        var package = DelegatePackager.Package(function);
        string[] hashes = [.. package.Assemblies.Select(a => a.Hash)];

        // The method is resolved and kept now: a call naming it otherwise is checked again, not served from what was kept.
        var wrongType = Assert.Throws<CapClusterException>(
            () => runner.Invoke(hashes, "Other.Type", package.MethodToken, true, [], [4], Shipping.Identity));
        Assert.Contains($"the token names {package.DeclaringTypeName}.Square", wrongType.Message, StringComparison.Ordinal);
        var wrongStaticness = Assert.Throws<CapClusterException>(
            () => runner.Invoke(hashes, package.DeclaringTypeName, package.MethodToken, false, [], [4], Shipping.Identity));
        Assert.Contains("Square is static", wrongStaticness.Message, StringComparison.Ordinal);
        Assert.Equal(25, runner.Invoke(hashes, package.DeclaringTypeName, package.MethodToken, true, [], [5], Shipping.Identity));
    }

    [Fact]
    public void Invoke_NonCapturingLambda_UsesTheSingleton()
    {
        using var runner = new DelegateRunner();

        Assert.Equal(42, Shipping.RoundTrip(runner, Closures.NonCapturing(), 41));
    }

    [Fact]
    public void Invoke_SharedClosure_RebuildsItFromTheCapturedValuesOnly()
    {
        using var runner = new DelegateRunner();
        using var sock = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var (compute, _) = Closures.SharedClosure(7, [1.5, 2.5], sock);

        Assert.Equal(3 * 7 + 4.0, Shipping.RoundTrip(runner, compute, 3));
    }

    [Fact]
    public void Invoke_LambdaInLoop_RebuildsTheNestedClosure()
    {
        using var runner = new DelegateRunner();
        var (perIteration, _) = Closures.InLoop(scale: 3, count: 2, label: "unrelated");

        Assert.Equal(5 * 3 + 0, Shipping.RoundTrip(runner, perIteration[0], 5));
        Assert.Equal(5 * 3 + 10, Shipping.RoundTrip(runner, perIteration[1], 5));
    }

    [Fact]
    public void Invoke_LambdaCallingALocalFunction_SeesTheCapturedValue()
    {
        using var runner = new DelegateRunner();

        Assert.Equal(7, Shipping.RoundTrip(runner, Closures.ViaLocalFunction(bonus: 4, spare: "not sent"), 3));
    }

    [Fact]
    public void Invoke_AsyncLambda_ReturnsTheAwaitedResult()
    {
        using var runner = new DelegateRunner();

        Assert.Equal(8, Shipping.RoundTrip(runner, Closures.AsyncAdder(offset: 5, unused: "not sent"), 3));
        Assert.Equal(14, Shipping.RoundTrip(runner, Closures.ValueTaskDoubler(), 7));
    }

    [Fact]
    public void Invoke_UserException_PropagatesUnwrappedWithItsStackTrace()
    {
        using var runner = new DelegateRunner();

        var e = Assert.Throws<InvalidOperationException>(
            () => Shipping.RoundTrip(runner, new Func<int, int>(Functions.Throws), 3));

        Assert.Equal("boom 3", e.Message);
        Assert.Contains(nameof(Functions.Throws), e.StackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingAssemblies_AfterAdd_IsEmpty()
    {
        using var runner = new DelegateRunner();
        var image = DelegatePackager.Package(new Func<int, int>(Functions.Square)).Assemblies[0];

        Assert.Equal([image.Hash], runner.MissingAssemblies([(image.Hash, image.Name), (image.Hash, image.Name)], image.Hash));
        runner.AddAssembly(image.Hash, image.Bytes);
        Assert.Empty(runner.MissingAssemblies([(image.Hash, image.Name)], image.Hash));
    }

    [Fact]
    public void MissingAssemblies_ADependencyTheEngineRunsItself_IsNotAskedFor_TheDeclaringOneAndOtherVersionsAre()
    {
        using var runner = new DelegateRunner();
        var image = DelegatePackager.Package(new Func<int, int>(Functions.Square)).Assemblies[0];
        var runsItself = typeof(DelegateRunner).Assembly.GetName(); // loaded here, as CapCluster.Protocol is in an engine
        (string Hash, string Name) dependency = (new string('a', 64), runsItself.FullName);
        (string Hash, string Name) otherVersion = (new string('b', 64), new System.Reflection.AssemblyName(runsItself.FullName) { Version = new Version(99, 0) }.FullName);
        (string Hash, string Name) unnamed = (new string('c', 64), "");

        Assert.Equal(
            [image.Hash, otherVersion.Hash, unnamed.Hash],
            runner.MissingAssemblies([(image.Hash, image.Name), dependency, otherVersion, unnamed], image.Hash));

        // Named again (a call resent with the images it lacked): still not asked for. As a call's declaring assembly,
        // whose code is loaded from its image: asked for, under any name.
        Assert.Empty(runner.MissingAssemblies([dependency], image.Hash));
        Assert.Equal([dependency.Hash], runner.MissingAssemblies([dependency], dependency.Hash));
    }

    [Fact]
    public void Invoke_WithADependencyTheEngineRunsItself_RunsWithoutItsImage()
    {
        using var runner = new DelegateRunner();
        var package = DelegatePackager.Package(new Func<int, int>(Functions.Square));
        (string Hash, string Name) dependency = (new string('a', 64), typeof(DelegateRunner).Assembly.FullName!);
        (string Hash, string Name)[] members = [.. package.Assemblies.Select(a => (a.Hash, a.Name)), dependency];

        foreach (var hash in runner.MissingAssemblies(members, package.Assemblies[0].Hash))
            runner.AddAssembly(hash, package.Assemblies.Single(a => a.Hash == hash).Bytes);
        string[] hashes = [.. members.Select(m => m.Hash)];

        Assert.Equal(16, runner.Invoke(hashes, package.DeclaringTypeName, package.MethodToken, package.IsStatic, [], [4], Shipping.Identity));
        // A closure (listed by the controller, which holds every image) still needs every image.
        var e = Assert.Throws<CapClusterException>(() => runner.AddClosure(AssemblyClosure.Id(hashes), hashes));
        Assert.Contains(dependency.Hash, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingAssemblies_OneCallersClaimThatAHashIsALibraryTheEngineRuns_DoesNotStopItBeingAskedOfAnother()
    {
        using var runner = new DelegateRunner();
        var image = DelegatePackager.Package(new Func<int, int>(Functions.Square)).Assemblies[0];
        var library = new string('d', 64); // the hash of a public library another holder will ship: anyone can know it

        Assert.Empty(runner.MissingAssemblies([(library, typeof(DelegateRunner).Assembly.FullName!)], image.Hash));

        Assert.Equal([library], runner.MissingAssemblies([(library, "SomeLibrary, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null")], image.Hash));
    }

    [Fact]
    public void AddAssembly_BytesNotMatchingTheHash_IsRefusedNamingBoth()
    {
        using var runner = new DelegateRunner();
        var image = DelegatePackager.Package(new Func<int, int>(Functions.Square)).Assemblies[0];
        var claimed = new string('0', 64);

        var e = Assert.Throws<CapClusterException>(() => runner.AddAssembly(claimed, image.Bytes));

        Assert.Contains(claimed, e.Message, StringComparison.Ordinal);
        Assert.Contains(image.Hash, e.Message, StringComparison.Ordinal);
        Assert.Equal([claimed], runner.MissingAssemblies([(claimed, image.Name)], claimed));
    }

    [Fact]
    public void AddAssembly_NotAnAssembly_IsRefused()
    {
        using var runner = new DelegateRunner();
        byte[] bytes = [1, 2, 3];

        var e = Assert.Throws<CapClusterException>(
            () => runner.AddAssembly(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes));

        Assert.Contains("not a .NET assembly", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invoke_AssemblyNeverSent_IsRefusedNamingTheHash()
    {
        using var runner = new DelegateRunner();
        var hash = new string('a', 64);

        var e = Assert.Throws<CapClusterException>(
            () => runner.Invoke([hash], "T", 0x06000001, true, [], [], Shipping.Identity));

        Assert.Contains(hash, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dispose_ContextIsCollectedWhileTheRunnerItselfIsStillReferenced()
    {
        var (runner, context) = RunThenDispose();

        for (var i = 0; i < 20 && context.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(context.IsAlive, "the shipped load context was not collected after Dispose");
        GC.KeepAlive(runner);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (DelegateRunner Runner, WeakReference Context) RunThenDispose()
    {
        var runner = new DelegateRunner();
        Assert.Equal(81, Shipping.RoundTrip(runner, new Func<int, int>(Functions.Square), 9));
        Assert.Equal(6, Shipping.RoundTrip(runner, Closures.InLoop(2, 1, "x").PerIteration[0], 3));
        Assert.Equal(5, Shipping.RoundTrip(runner, Closures.AsyncAdder(2, "x"), 3));
        var context = new WeakReference(runner.Context);
        runner.Dispose();
        return (runner, context);
    }
}

using CapCluster.Client.Internal.Delegates;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using Google.Protobuf;
using Xunit.Abstractions;

namespace CapCluster.Client.Tests;

/// <summary>A delegate task names its assemblies by one closure id; each stream lists a closure, and sends an image, once.</summary>
public sealed class ShippedClosuresTests(ITestOutputHelper output)
{
    private static readonly AssemblyImage Shared = Image("Shared", 1);
    private static readonly AssemblyImage First = Image("First", 2);
    private static readonly AssemblyImage Second = Image("Second", 3);

    [Fact]
    public void Package_TwoLambdasOfOneAssembly_NameOneClosure_TheHashOfTheirImages()
    {
        var offset = 3;
        var one = DelegatePackager.Package(() => 0);
        var two = DelegatePackager.Package((int x) => x + offset);

        Assert.Equal(AssemblyClosure.Id(one.Assemblies.Select(a => a.Hash)), one.ClosureId);
        Assert.Equal(one.ClosureId, two.ClosureId);
        Assert.Contains(one.Assemblies, a => a.Name.StartsWith("CapCluster.Client,", StringComparison.Ordinal));
    }

    [Fact]
    public void List_TheFirstTaskOnAStreamListsTheClosureWithItsImages_LaterOnesOnlyNameIt()
    {
        var package = DelegatePackager.Package(() => 0);
        var closures = new ShippedClosures();
        var stream = closures.OnStream();

        var first = Spec(closures.Name(package));
        var later = Spec(closures.Name(package));
        first = stream.List(first);
        later = stream.List(later);

        var listed = first.Function.Function.Assemblies;
        Assert.Equal(package.Assemblies.Select(a => a.Hash), listed.Select(a => a.Hash));
        Assert.All(listed, a => Assert.False(a.Image.IsEmpty));
        Assert.Empty(later.Function.Function.Assemblies);
        Assert.Equal(package.ClosureId, later.Function.Function.Closure);

        // What every task after the first costs, whatever the closure's size (a 64-hex id, the type name and the token).
        var oneReference = new AssemblyRef { Hash = package.Assemblies[0].Hash }.CalculateSize() + 2;
        output.WriteLine($"closure of {package.Assemblies.Count} assemblies ({package.Assemblies.Sum(a => a.Bytes.Length):N0} image bytes); " +
            $"a later task's spec: {later.CalculateSize()} bytes (it would be {later.CalculateSize() - 66 + package.Assemblies.Count * oneReference} naming each assembly by hash)");
        Assert.True(later.CalculateSize() < 66 + 40 + package.DeclaringTypeName.Length, $"a later task's spec is {later.CalculateSize()} bytes");
    }

    [Fact]
    public void List_ANewStream_ListsTheClosureAgain_WithItsImages()
    {
        var closures = new ShippedClosures();
        var id = closures.Name(Package(Shared, First));
        _ = closures.OnStream().List(Spec(id));

        var again = Spec(id);
        again = closures.OnStream().List(again);

        Assert.Equal([Shared.Hash, First.Hash], again.Function.Function.Assemblies.Select(a => a.Hash));
        Assert.All(again.Function.Function.Assemblies, a => Assert.False(a.Image.IsEmpty));
    }

    [Fact]
    public void List_ATaskSentAgainOnANewStream_ListsWhatThatStreamNeeds_NotWhatTheLastOneDid()
    {
        var closures = new ShippedClosures();
        var id = closures.Name(Package(Shared, First));
        var old = closures.OnStream();
        _ = old.List(Spec(id));
        var unsent = Spec(id);
        unsent = old.List(unsent);
        var listedFirst = Spec(id);
        listedFirst = closures.OnStream().List(listedFirst);

        // Not sent on the old stream (the controller had gone): first on the next, where it must carry the images,
        // then once more on a stream that listed the closure already, where it must carry none.
        var next = closures.OnStream();
        unsent = next.List(unsent);
        var onNext = unsent.Function.Function.Assemblies.ToList();
        listedFirst = next.List(listedFirst);

        Assert.Equal([Shared.Hash, First.Hash], onNext.Select(a => a.Hash));
        Assert.All(onNext, a => Assert.False(a.Image.IsEmpty));
        Assert.Empty(listedFirst.Function.Function.Assemblies);
    }

    [Fact]
    public void List_AnImageTwoClosuresShare_TravelsOncePerStream_AndARecoveryNamingTheSameClosureListsNothing()
    {
        var closures = new ShippedClosures();
        var stream = closures.OnStream();
        var one = Spec(closures.Name(Package(First, Shared)));
        one.Recovery = Spec(one.Function.Function.Closure);
        var two = Spec(closures.Name(Package(Second, Shared)));

        one = stream.List(one);
        two = stream.List(two);

        Assert.Equal([First.Hash, Shared.Hash], one.Function.Function.Assemblies.Select(a => a.Hash));
        Assert.Empty(one.Recovery.Function.Function.Assemblies);
        var listed = two.Function.Function.Assemblies;
        Assert.Equal([Second.Hash, Shared.Hash], listed.Select(a => a.Hash));
        Assert.False(listed[0].Image.IsEmpty);
        Assert.True(listed[1].Image.IsEmpty, "the shared image went with the first closure on this stream");
        Assert.Equal(AssemblyClosure.Id([Second.Hash, Shared.Hash]), two.Function.Function.Closure);
    }

    [Fact]
    public void List_TasksThatShareOneSpec_TheFirstCarriesTheListInACopy_TheSharedSpecStaysUnlisted()
    {
        var closures = new ShippedClosures();
        var shared = Spec(closures.Name(Package(Shared, First)));
        var stream = closures.OnStream();

        var first = stream.List(shared);
        var later = stream.List(shared);

        Assert.NotSame(shared, first);
        Assert.Equal([Shared.Hash, First.Hash], first.Function.Function.Assemblies.Select(a => a.Hash));
        Assert.Same(shared, later);
        Assert.Empty(shared.Function.Function.Assemblies);
    }

    [Fact]
    public void List_ASharedSpecWhoseRecoveryNamesANewClosure_ListsItInACopy_AtThatDepth()
    {
        var closures = new ShippedClosures();
        var stream = closures.OnStream();
        var top = closures.Name(Package(Shared, First));
        _ = stream.List(Spec(top));
        var shared = Spec(top);
        shared.Recovery = Spec(closures.Name(Package(Second)));

        var sent = stream.List(shared);

        Assert.Empty(sent.Function.Function.Assemblies);
        Assert.Equal([Second.Hash], sent.Recovery.Function.Function.Assemblies.Select(a => a.Hash));
        Assert.Empty(shared.Recovery.Function.Function.Assemblies);
    }

    private static TaskSpec Spec(string closure) =>
        new() { Function = new ApplyRequest { Function = new DelegateCall { Closure = closure, DeclaringType = "T", MethodToken = 0x06000001, IsStatic = true } } };

    private static DelegatePackage Package(params AssemblyImage[] images) =>
        new([.. images], AssemblyClosure.Id(images.Select(i => i.Hash)), "T", 0x06000001, true, [], [], typeof(int), []);

    private static AssemblyImage Image(string name, byte content)
    {
        byte[] bytes = [content, content, content];
        return new AssemblyImage(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), name, bytes);
    }
}

using System.Net.Sockets;
using System.Security.Cryptography;
using CapCluster.Client;
using CapCluster.Client.Internal.Delegates;
using CapCluster.Engine.Tests.ShippedCode;

namespace CapCluster.Engine.Tests.Delegates;

public sealed class DelegatePackagerTests
{
    private static readonly string ShippedCodeFile = typeof(Functions).Assembly.Location;

    [Fact]
    public void Package_StaticMethodGroup_ShipsItsAssemblyByHashAndNoFramework()
    {
        var package = DelegatePackager.Package(new Func<int, int>(Functions.Square));

        Assert.True(package.IsStatic);
        Assert.Empty(package.Captured);
        Assert.Equal(typeof(Functions).FullName, package.DeclaringTypeName);
        Assert.Equal(typeof(Functions).GetMethod(nameof(Functions.Square))!.MetadataToken, package.MethodToken);
        Assert.Equal([typeof(int)], package.ParameterTypes);
        Assert.Equal(typeof(int), package.ReturnType);
        var image = Assert.Single(package.Assemblies);
        Assert.Equal(typeof(Functions).Assembly.FullName, image.Name);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(ShippedCodeFile))), image.Hash);
    }

    [Fact]
    public void Package_NonCapturingLambda_IsAnInstanceMethodOnTheSingletonWithNothingCaptured()
    {
        var package = DelegatePackager.Package(Closures.NonCapturing());

        Assert.False(package.IsStatic);
        Assert.EndsWith("+<>c", package.DeclaringTypeName, StringComparison.Ordinal);
        Assert.Empty(package.Captured);
    }

    [Fact]
    public void Package_SharedClosure_ListsOnlyTheVariablesEachLambdaReads()
    {
        using var sock = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        double[] data = [1.5, 2.5];
        var (compute, usesSocket) = Closures.SharedClosure(7, data, sock);

        var computed = DelegatePackager.Package(compute).Captured.OrderBy(c => c.VariableName).ToList();
        Assert.Equal(["data", "factor"], computed.Select(c => c.VariableName));
        Assert.Equal([typeof(double[]), typeof(int)], computed.Select(c => c.DeclaredType));
        Assert.Same(data, computed[0].Value);
        Assert.Equal(7, computed[1].Value);

        var socketUser = DelegatePackager.Package(usesSocket).Captured;
        var captured = Assert.Single(socketUser, c => c.VariableName == "sock");
        Assert.Equal(typeof(Socket), captured.DeclaredType);
        Assert.Same(sock, captured.Value);
        Assert.DoesNotContain(socketUser, c => c.VariableName == "data");
    }

    [Fact]
    public void Package_LambdaInLoop_ReachesTheMethodScopeClosureThroughADottedPath()
    {
        var (perIteration, _) = Closures.InLoop(scale: 3, count: 2, label: "unrelated");

        var captured = DelegatePackager.Package(perIteration[1]).Captured.OrderBy(c => c.VariableName).ToList();

        Assert.Equal(["offset", "scale"], captured.Select(c => c.VariableName));
        Assert.Equal("offset", captured[0].FieldName);
        Assert.Equal(10, captured[0].Value);
        Assert.EndsWith(".scale", captured[1].FieldName, StringComparison.Ordinal);
        Assert.StartsWith("CS$<>8__locals", captured[1].FieldName, StringComparison.Ordinal);
        Assert.Equal(3, captured[1].Value);
        Assert.All(captured, c => Assert.Equal(typeof(int), c.DeclaredType));
    }

    [Fact]
    public void Package_OneLambdaWithTwoClosures_CarriesEachClosuresOwnValues()
    {
        var (perIteration, _) = Closures.InLoop(scale: 3, count: 2, label: "unrelated");

        // One method: the second package comes from what the first one gathered about it, with its own values.
        var first = DelegatePackager.Package(perIteration[0]);
        var second = DelegatePackager.Package(perIteration[1]);

        Assert.Equal(first.MethodToken, second.MethodToken);
        Assert.Equal(0, first.Captured.Single(c => c.VariableName == "offset").Value);
        Assert.Equal(10, second.Captured.Single(c => c.VariableName == "offset").Value);
    }

    [Fact]
    public void Package_AStaticMethodShippedBefore_IsStillRefusedBoundToAFirstArgument()
    {
        DelegatePackager.Package(new Func<string, int, int>(Functions.LengthPlus));

        var e = Assert.Throws<DelegateNotShippableException>(() => DelegatePackager.Package(new Func<int, int>("abc".LengthPlus)));

        Assert.Contains("bound to a first argument", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_AsyncLambda_FindsTheVariablesItsStateMachineReads()
    {
        var package = DelegatePackager.Package(Closures.AsyncAdder(offset: 5, unused: "not sent"));

        var captured = Assert.Single(package.Captured);
        Assert.Equal("offset", captured.VariableName);
        Assert.Equal(5, captured.Value);
        Assert.Equal(typeof(Task<int>), package.ReturnType);
    }

    [Fact]
    public void Package_LambdaCapturingThisAndALocal_NamesTheObjectThis()
    {
        var counter = new Counter { Start = 2 };

        var captured = DelegatePackager.Package(counter.CapturesThisAndLocal(4)).Captured.OrderBy(c => c.VariableName).ToList();

        Assert.Equal(["k", "this"], captured.Select(c => c.VariableName));
        Assert.Equal("<>4__this", captured[1].FieldName);
        Assert.Equal(typeof(Counter), captured[1].DeclaredType);
        Assert.Same(counter, captured[1].Value);
    }

    [Fact]
    public void Package_LambdaCallingALocalFunction_FindsWhatTheLocalFunctionReads()
    {
        var captured = Assert.Single(DelegatePackager.Package(Closures.ViaLocalFunction(bonus: 4, spare: "not sent")).Captured);

        Assert.Equal("bonus", captured.VariableName);
        Assert.Equal(4, captured.Value);
    }

    [Fact]
    public void Package_LambdaInTheTestAssembly_ShipsItsNonFrameworkReferencesTransitively()
    {
        var square = Functions.Square;
        Func<int, int> lambda = x => square(x) + 1;

        var names = DelegatePackager.Package(lambda).Assemblies.Select(a => a.Name).ToList();

        Assert.Equal(typeof(DelegatePackagerTests).Assembly.FullName, names[0]);
        Assert.Contains(typeof(Functions).Assembly.FullName, names);
        Assert.Contains(typeof(DelegatePackager).Assembly.FullName, names);
        Assert.Contains(typeof(CapClusterException).Assembly.FullName, names);
        Assert.Contains(typeof(System.CommandLine.Command).Assembly.FullName, names); // a NuGet package, not framework
        Assert.DoesNotContain(typeof(object).Assembly.FullName, names);
        Assert.DoesNotContain(typeof(Enumerable).Assembly.FullName, names);
        Assert.DoesNotContain(names, n => n.StartsWith("System.Runtime,", StringComparison.Ordinal) || n.StartsWith("netstandard,", StringComparison.Ordinal));
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Fact]
    public void Package_SameAssemblyTwice_ReusesTheImage()
    {
        var first = DelegatePackager.Package(new Func<int, int>(Functions.Square)).Assemblies[0];
        var second = DelegatePackager.Package(Closures.NonCapturing()).Assemblies[0];

        Assert.Same(first, second);
    }

    [Fact]
    public void Package_OfALambdaReadingFieldsOfItsArgumentOnly_IsOnePackage_SharedByEveryCall()
    {
        // ValueTuple's fields are read with ldfld, as a closure's are; they are the argument's, not captured values.
        var function = new Func<(int A, int B), int>(t => t.A + t.B);

        var first = DelegatePackager.Package(function);

        Assert.Empty(first.Captured);
        Assert.Same(first, DelegatePackager.Package(function));
    }
}

using System.Security.Cryptography;
using CapCluster.Engine.Internal.Delegates;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CapCluster.Engine.Tests.Delegates;

/// <summary>A client rebuilt between calls ships an assembly with the same name and version but other bytes.</summary>
public sealed class RebuiltAssemblyTests
{
    [Fact]
    public void Invoke_TwoBuildsWithTheSameName_EachRunsItsOwnCode()
    {
        using var runner = new DelegateRunner();
        var first = Compile("return 1;");
        var second = Compile("return 2;");
        runner.AddAssembly(first.Hash, first.Bytes);
        runner.AddAssembly(second.Hash, second.Bytes);

        Assert.Equal(1, runner.Invoke([first.Hash], "User.F", first.Token, true, [], [], Shipping.Identity));
        Assert.Equal(2, runner.Invoke([second.Hash], "User.F", second.Token, true, [], [], Shipping.Identity));
        Assert.Equal(1, runner.Invoke([first.Hash], "User.F", first.Token, true, [], [], Shipping.Identity));
    }

    [Fact]
    public void Invoke_CodeUsingAShippedLibraryTheEngineLacks_ResolvesItFromTheImages()
    {
        using var runner = new DelegateRunner();
        var library = Emit("UserLibrary", "namespace Lib; public static class L { public static int Forty() { return 40; } }", []);
        var user = Compile("return Lib.L.Forty() + 2;", MetadataReference.CreateFromImage(library));
        runner.AddAssembly(Hash(library), library);
        runner.AddAssembly(user.Hash, user.Bytes);

        Assert.Equal(42, runner.Invoke([user.Hash, Hash(library)], "User.F", user.Token, true, [], [], Shipping.Identity));
        Assert.Contains(runner.Context.Assemblies, a => a.GetName().Name == "UserLibrary");
    }

    [Fact]
    public void ALibraryOfTheSameNameShippedLater_ByAnotherHolder_DoesNotReplaceTheOneACallNames()
    {
        using var runner = new DelegateRunner();
        var library = Emit("UserLibrary", "namespace Lib; public static class L { public static int Forty() { return 40; } }", []);
        var impostor = Emit("UserLibrary", "namespace Lib; public static class L { public static int Forty() { return -1000; } }", []);
        var user = Compile("return Lib.L.Forty() + 2;", MetadataReference.CreateFromImage(library));
        runner.AddAssembly(Hash(library), library);
        runner.AddAssembly(user.Hash, user.Bytes);
        runner.AddAssembly(Hash(impostor), impostor);

        // The impostor came last, and the user's code first needs the library now: it gets the one its call names.
        Assert.Equal(42, runner.Invoke([user.Hash, Hash(library)], "User.F", user.Token, true, [], [], Shipping.Identity));

        // Another holder's call binds the name to its own image in a context of its own; the user's next call is unaffected.
        var other = Compile("return Lib.L.Forty();", MetadataReference.CreateFromImage(impostor));
        runner.AddAssembly(other.Hash, other.Bytes);
        Assert.Equal(-1000, runner.Invoke([other.Hash, Hash(impostor)], "User.F", other.Token, true, [], [], Shipping.Identity));
        Assert.Equal(42, runner.Invoke([user.Hash, Hash(library)], "User.F", user.Token, true, [], [], Shipping.Identity));
    }

    [Fact]
    public void ADependencyTheCallDoesNotName_IsNotTakenFromAnotherHoldersImages()
    {
        using var runner = new DelegateRunner();
        var library = Emit("UserLibrary", "namespace Lib; public static class L { public static int Forty() { return 40; } }", []);
        var user = Compile("return Lib.L.Forty() + 2;", MetadataReference.CreateFromImage(library));
        runner.AddAssembly(Hash(library), library);
        runner.AddAssembly(user.Hash, user.Bytes);

        // Sent by someone, but not named by this call: resolution fails rather than picking it by name.
        Assert.ThrowsAny<System.IO.FileNotFoundException>(() => runner.Invoke([user.Hash], "User.F", user.Token, true, [], [], Shipping.Identity));
    }

    private static (string Hash, byte[] Bytes, int Token) Compile(string body, params MetadataReference[] references)
    {
        var bytes = Emit("UserCode", $"namespace User; public static class F {{ public static int Run() {{ {body} }} }}", references);
        // A static class has no constructor: Run is the first MethodDef row.
        return (Hash(bytes), bytes, 0x06000001);
    }

    private static byte[] Emit(string name, string source, MetadataReference[] references)
    {
        var compilation = CSharpCompilation.Create(
            name,
            [CSharpSyntaxTree.ParseText(source)],
            [MetadataReference.CreateFromFile(typeof(object).Assembly.Location), .. references],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var stream = new MemoryStream();
        var result = compilation.Emit(stream);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics));
        return stream.ToArray();
    }

    private static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}

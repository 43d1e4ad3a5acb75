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

        Assert.Equal(1, runner.Invoke(first.Hash, "User.F", first.Token, true, [], [], Shipping.Identity));
        Assert.Equal(2, runner.Invoke(second.Hash, "User.F", second.Token, true, [], [], Shipping.Identity));
        Assert.Equal(1, runner.Invoke(first.Hash, "User.F", first.Token, true, [], [], Shipping.Identity));
    }

    private static (string Hash, byte[] Bytes, int Token) Compile(string body)
    {
        var compilation = CSharpCompilation.Create(
            "UserCode",
            [CSharpSyntaxTree.ParseText($"namespace User; public static class F {{ public static int Run() {{ {body} }} }}")],
            [MetadataReference.CreateFromFile(typeof(object).Assembly.Location)],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var stream = new MemoryStream();
        var result = compilation.Emit(stream);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics));
        var bytes = stream.ToArray();
        // A static class has no constructor: Run is the first MethodDef row.
        return (Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes, 0x06000001);
    }
}

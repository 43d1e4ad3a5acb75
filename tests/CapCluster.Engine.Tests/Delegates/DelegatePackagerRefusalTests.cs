using CapCluster.Client;
using System.Linq.Expressions;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using System.Reflection.Emit;
using CapCluster.Client.Internal.Delegates;
using CapCluster.Engine.Tests.ShippedCode;

namespace CapCluster.Engine.Tests.Delegates;

public sealed class DelegatePackagerRefusalTests
{
    [Fact]
    public void Package_Multicast_IsRefused()
    {
        Func<int, int> both = Functions.Square;
        both += Functions.Square;

        var e = Assert.Throws<DelegateNotShippableException>(() => DelegatePackager.Package(both));

        Assert.Contains("Functions.Square", e.Message, StringComparison.Ordinal);
        Assert.Contains("multicast", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_InstanceMethodOnUserObject_IsRefusedWithTheAdvice()
    {
        var e = Assert.Throws<DelegateNotShippableException>(
            () => DelegatePackager.Package(new Func<int, int>(new Counter().Next)));

        Assert.Contains("Counter.Next", e.Message, StringComparison.Ordinal);
        Assert.Contains("instance methods on objects cannot be shipped: make it static or a lambda", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_LambdaCapturingOnlyThis_IsRefused()
    {
        var e = Assert.Throws<DelegateNotShippableException>(
            () => DelegatePackager.Package(new Counter().CapturesThisOnly()));

        Assert.Contains("uses only 'this'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_CompiledExpression_IsRefusedAsDynamic()
    {
        Expression<Func<int, int>> expression = x => x + 1;

        var e = Assert.Throws<DelegateNotShippableException>(() => DelegatePackager.Package(expression.Compile()));

        Assert.Contains("dynamic method", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_DynamicMethod_IsRefusedAsDynamic()
    {
        var method = new DynamicMethod("Seven", typeof(int), Type.EmptyTypes);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldc_I4_7);
        il.Emit(OpCodes.Ret);

        var e = Assert.Throws<DelegateNotShippableException>(
            () => DelegatePackager.Package(method.CreateDelegate<Func<int>>()));

        Assert.Contains("Seven", e.Message, StringComparison.Ordinal);
        Assert.Contains("dynamic method", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_GenericMethodAndLambdaInGenericMethod_AreRefused()
    {
        var method = Assert.Throws<DelegateNotShippableException>(
            () => DelegatePackager.Package(new Func<int, int>(Functions.Identity)));
        var lambda = Assert.Throws<DelegateNotShippableException>(
            () => DelegatePackager.Package(Closures.Generic(5)));

        Assert.Contains("Functions.Identity", method.Message, StringComparison.Ordinal);
        Assert.Contains("generic", method.Message, StringComparison.Ordinal);
        Assert.Contains("generic", lambda.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_ExtensionMethodBoundToItsFirstArgument_IsRefused()
    {
        var e = Assert.Throws<DelegateNotShippableException>(
            () => DelegatePackager.Package(new Func<int, int>("abc".LengthPlus)));

        Assert.Contains("Functions.LengthPlus", e.Message, StringComparison.Ordinal);
        Assert.Contains("bound to a first argument", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Package_LambdaTypedInAScript_IsRefusedSayingToSendTheCodeAsText()
    {
        // What the console and a notebook's C# kernel do with what is typed: Roslyn scripting, compiled in memory.
        var square = (Func<int, int>)(await CSharpScript.EvaluateAsync("(System.Func<int, int>)(x => x * x)"))!;

        var e = Assert.Throws<DelegateNotShippableException>(() => DelegatePackager.Package(square));

        Assert.Contains("Submission#0", e.Message, StringComparison.Ordinal);
        Assert.Contains("typed in a C# script", e.Message, StringComparison.Ordinal);
        Assert.Contains("send the code as text instead (a CodeTask", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_MethodOfAnAssemblyLoadedFromBytes_IsRefusedNamingTheAssembly()
    {
        var context = new AssemblyLoadContext("from bytes", isCollectible: true);
        try
        {
            var assembly = context.LoadFromStream(new MemoryStream(File.ReadAllBytes(typeof(Functions).Assembly.Location)));
            var square = assembly.GetType(typeof(Functions).FullName!)!.GetMethod(nameof(Functions.Square))!.CreateDelegate<Func<int, int>>();

            var e = Assert.Throws<DelegateNotShippableException>(() => DelegatePackager.Package(square));

            Assert.Contains($"its assembly '{assembly.GetName().Name}' is dynamic or was not loaded from a file", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("script", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void DelegateNotShippableException_IsACapClusterException() =>
        Assert.IsAssignableFrom<CapClusterException>(new DelegateNotShippableException("x"));
}

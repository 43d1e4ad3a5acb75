using System.Reflection;
using System.Runtime.Loader;

namespace CapCluster.Engine.Tests.ShippedCode;

/// <summary>Static methods shipped as method groups.</summary>
public static class Functions
{
    public static int Square(int x) => x * x;

    /// <summary>The name of the load context this code runs from ("shipped" on a runner).</summary>
    public static string LoadedFrom() => AssemblyLoadContext.GetLoadContext(Assembly.GetExecutingAssembly())?.Name ?? "(none)";

    public static bool RunsCollectible() => Assembly.GetExecutingAssembly().IsCollectible;

    public static int Throws(int x) => throw new InvalidOperationException($"boom {x}");

    public static T Identity<T>(T x) => x;

    public static int LengthPlus(this string s, int k) => s.Length + k;
}

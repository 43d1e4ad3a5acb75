using CapCluster.Security;

namespace CapCluster.Engine.Internal.Delegates;

/// <summary>Every message <see cref="DelegateRunner"/> raises, built in one place.</summary>
internal static class DelegateRunnerErrors
{
    public static CapClusterException HashMismatch(string claimed, string actual) =>
        new($"shipped assembly refused: it was sent as {claimed} but its bytes hash to {actual}");

    public static CapClusterException NotAnAssembly(string hash, Exception inner) =>
        new($"shipped assembly {hash} is not a .NET assembly: {inner.Message}", inner);

    public static CapClusterException UnknownAssembly(string hash) =>
        new($"assembly {hash} was not shipped to this engine: send it before invoking a method from it");

    public static CapClusterException UnknownClosure(string id) =>
        new($"assembly closure {id} was not listed to this engine: the first task naming a closure lists its assemblies");

    public static CapClusterException WrongClosure(string claimed, string actual) =>
        new($"assembly closure refused: its assemblies were listed as closure {claimed} but hash to closure {actual}");

    public static CapClusterException ClosureLacks(string id, IReadOnlyList<string> missing) =>
        new($"assembly closure {id} names assemblies this engine was not sent: {string.Join(", ", missing)}");

    public static CapClusterException MethodNotFound(string hash, string typeName, int token, string why) =>
        new($"no method 0x{token:X8} on {typeName} in shipped assembly {hash}: {why}");

    public static CapClusterException NoSuchField(string typeName, string path) =>
        new($"captured variable '{path}' is not a field of {typeName}");

    public static CapClusterException HeldAssembly(string path, int index, int count) =>
        new($"the delegate in captured variable '{path}' names assembly {index} of a call that ships {count}");

    public static CapClusterException HeldTwice(string path) =>
        new($"the delegate in captured variable '{path}' is sent twice");

    public static CapClusterException NoHolder(string path) =>
        new($"captured variable '{path}' names no delegate shipped with it, or a static one, whose target has no fields");

    public static CapClusterException HeldType(string path, Type type, System.Reflection.MethodInfo method, string why) =>
        new($"captured variable '{path}' cannot hold {method.DeclaringType?.FullName}.{method.Name} as a {type.FullName}: {why}");

    public static CapClusterException ArgumentCount(string method, int expected, int actual) =>
        new($"{method} takes {expected} argument(s) but {actual} were sent");
}

using CapCluster.Client;
using System.Reflection;

namespace CapCluster.Client.Internal.Delegates;

/// <summary>Every refusal message of <see cref="DelegatePackager"/>, built in one place.</summary>
internal static class DelegateErrors
{
    private const string SendAsText =
        "send the code as text instead (a CodeTask, TaskClient.MapAsync<T, TResult>(\"x * x\", items), or #!px)";

    public static DelegateNotShippableException Multicast(Delegate function) =>
        Refuse(function.Method, $"it is a multicast delegate of {function.GetInvocationList().Length} methods: ship one method at a time");

    public static DelegateNotShippableException Dynamic(MethodInfo method) =>
        Refuse(method, "it is a dynamic method (DynamicMethod or a compiled expression tree) and has no assembly to ship");

    public static DelegateNotShippableException DynamicAssembly(MethodInfo method, Assembly assembly) =>
        Refuse(method, $"its assembly '{assembly.GetName().Name}' is dynamic or was not loaded from a file, so its bytes cannot be shipped");

    public static DelegateNotShippableException ScriptSubmission(MethodInfo method) =>
        Refuse(method, "it was typed in a C# script compiled in memory, whose host gave no image of it to ship (the capcluster console " +
            "and the CapCluster notebook extension do, through InMemoryAssemblies): " + SendAsText);

    public static DelegateNotShippableException ImageNotLoaded(MethodInfo method, Assembly assembly, string difference) =>
        Refuse(method, $"the image its host gave for assembly '{assembly.GetName().Name}' is not the assembly that runs here: {difference}; " + SendAsText);

    public static DelegateNotShippableException ReferenceWithoutFile(MethodInfo method, Assembly reference) =>
        Refuse(method, $"it depends on assembly '{reference.FullName}', which was not loaded from a file, so its bytes cannot be shipped");

    public static DelegateNotShippableException Generic(MethodInfo method) =>
        Refuse(method, "generic methods and lambdas inside generic types or methods cannot be shipped: write a non-generic wrapper");

    public static DelegateNotShippableException InstanceOnObject(MethodInfo method, Type targetType) =>
        Refuse(method, $"instance methods on objects cannot be shipped: make it static or a lambda (its target is a {targetType.FullName})");

    public static DelegateNotShippableException CapturesThisOnly(MethodInfo method, Type targetType) =>
        Refuse(method, $"the lambda uses only 'this' (a {targetType.FullName}), so it compiles to an instance method on that object, " +
            "which cannot be shipped: copy the members it needs into locals first");

    public static DelegateNotShippableException BoundStatic(MethodInfo method) =>
        Refuse(method, "it is a static method bound to a first argument (an extension-method delegate): use a lambda instead");

    public static DelegateNotShippableException MultiModule(MethodInfo method) =>
        Refuse(method, "it is declared in a secondary module of a multi-module assembly");

    public static DelegateNotShippableException HeldRecursive(MethodInfo method, string variable) =>
        Refuse(method, $"captured variable '{variable}' holds a delegate that reaches itself (a recursive lambda): " +
            "write the recursion as a local or static function, which the lambda may call");

    public static DelegateNotShippableException HeldFramework(MethodInfo method, string variable, MethodInfo held) =>
        Refuse(method, $"captured variable '{variable}' holds a delegate to the framework's {Describe(held)}, which is not shipped: " +
            "hold a lambda calling it instead (x => Math.Sqrt(x) rather than Math.Sqrt)");

    public static DelegateNotShippableException Held(MethodInfo method, string variable, DelegateNotShippableException inner) =>
        new($"cannot ship delegate {Describe(method)}: captured variable '{variable}' holds a delegate that cannot ship: {inner.Message}");

    public static DelegateNotShippableException HeldOutsideAssemblies(MethodInfo method, string variable) =>
        Refuse(method, $"captured variable '{variable}' holds a delegate to a method of an assembly the lambda's own assembly does not " +
            "reference, so it is not shipped with it: hold a lambda written beside this one instead");

    private static DelegateNotShippableException Refuse(MethodInfo method, string why) =>
        new($"cannot ship delegate {Describe(method)}: {why}");

    private static string Describe(MethodInfo method) =>
        method.DeclaringType is { } type ? $"{type.FullName}.{method.Name}" : method.Name;
}

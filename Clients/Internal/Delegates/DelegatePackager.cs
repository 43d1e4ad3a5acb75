using CapCluster.Client;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;

namespace CapCluster.Client.Internal.Delegates;

/// <summary>
/// Turns a compiled delegate (a static method, or a lambda on a compiler-generated closure) into a
/// <see cref="DelegatePackage"/>: the assemblies to ship by hash, the method's token, and the captured
/// variables the method actually reads.
/// </summary>
internal static partial class DelegatePackager
{
    // What a method contributes to its package is the same every time it is shipped (a task farm ships one lambda
    // thousands of times): checked and gathered once per method per process. Only the target's values differ.
    private static readonly ConditionalWeakTable<MethodInfo, MethodShape> Shapes = new();

    /// <summary>Packages <paramref name="function"/>, or throws <see cref="DelegateNotShippableException"/> naming the reason.</summary>
    public static DelegatePackage Package(Delegate function)
    {
        ArgumentNullException.ThrowIfNull(function);
        var package = Package(function, outer: null);
        // A held delegate's method goes as a place in the assemblies shipped: one outside them has nothing to run it.
        foreach (var held in package.Delegates)
        {
            if (package.IndexOf(held.AssemblyHash) < 0)
                throw DelegateErrors.HeldOutsideAssemblies(function.Method, held.VariableName);
        }
        return package;
    }

    /// <summary>Packages <paramref name="function"/>, held (when <paramref name="outer"/> is set) by the delegates being packaged around it.</summary>
    private static DelegatePackage Package(Delegate function, Chain? outer)
    {
        if (!function.HasSingleTarget)
            throw DelegateErrors.Multicast(function);

        var method = function.Method;
        var target = function.Target;
        if (!Shapes.TryGetValue(method, out var shape))
        {
            // The first time: the reasons in the order a user fixes them, before the assemblies are read.
            CheckMethod(method);
            CheckTarget(method, target);
            shape = Shapes.GetValue(method, static m => ShapeOf(m));
        }
        else if (method.IsStatic ? target is not null : target!.GetType() != shape.DeclaringType || !shape.OnClosure)
        {
            CheckTarget(method, target);
        }

        // A lambda that reads no closure field (one of a class's "<>c" singleton) has no values to collect: its package
        // is the same every time (a burst of 100,000 such tasks shares one).
        if (target is null || shape.FieldsRead.Count == 0)
        {
            return shape.Bare;
        }

        var captured = new List<CapturedValue>();
        List<NestedDelegate>? delegates = null;
        CollectCaptured(target, prefix: "", shape.FieldsRead, function, outer, captured, ref delegates);
        return shape.Bare with { Captured = captured, Delegates = delegates ?? [] };
    }

    /// <summary>The delegates being packaged, innermost first: one reached again is a cycle (a recursive lambda).</summary>
    private sealed record Chain(Delegate Function, Chain? Outer)
    {
        public bool Holds(Delegate function) =>
            ReferenceEquals(Function, function) || Outer is not null && Outer.Holds(function);
    }

    private static void CheckMethod(MethodInfo method)
    {
        if (method is DynamicMethod || method.DeclaringType is not { } declaringType)
            throw DelegateErrors.Dynamic(method);
        var assembly = method.Module.Assembly;
        if (HasNoFile(assembly) && InMemoryAssemblies.TryImageOf(assembly) is null)
            throw IsScriptSubmission(declaringType) ? DelegateErrors.ScriptSubmission(method) : DelegateErrors.DynamicAssembly(method, assembly);
        if (method.Module != assembly.ManifestModule)
            throw DelegateErrors.MultiModule(method);
        if (method.IsGenericMethod || declaringType.IsGenericType || declaringType.ContainsGenericParameters)
            throw DelegateErrors.Generic(method);
    }

    /// <summary>
    /// A static method takes no target; an instance method only a lambda's closure, its class's singleton, or a script's
    /// submission (a script's variables are fields of its submission objects, so a lambda reading them is a method of one).
    /// </summary>
    private static void CheckTarget(MethodInfo method, object? target)
    {
        if (method.IsStatic)
        {
            if (target is not null)
                throw DelegateErrors.BoundStatic(method);
            return;
        }

        var targetType = target!.GetType();
        if (!IsClosureLike(targetType))
        {
            throw method.Name.StartsWith('<')
                ? DelegateErrors.CapturesThisOnly(method, targetType)
                : DelegateErrors.InstanceOnObject(method, targetType);
        }
    }

    /// <summary>What every package of <paramref name="method"/> shares (checked by <see cref="CheckMethod"/>).</summary>
    private static MethodShape ShapeOf(MethodInfo method)
    {
        var declaringType = method.DeclaringType!;
        var closure = AssembliesFor(method, method.Module.Assembly);
        IReadOnlyList<Type> parameterTypes = [.. method.GetParameters().Select(p => p.ParameterType)];
        return new MethodShape(
            declaringType,
            IsClosureLike(declaringType),
            method.IsStatic ? new HashSet<FieldKey>() : FieldsRead(method),
            new DelegatePackage(closure.Images, closure.Id, declaringType.FullName!, method.MetadataToken, method.IsStatic, [], parameterTypes, method.ReturnType, []));
    }

    /// <summary>Dynamic, loaded from bytes, or compiled in memory (shipped only from <see cref="InMemoryAssemblies"/>).</summary>
    private static bool HasNoFile(Assembly assembly) => assembly.IsDynamic || string.IsNullOrEmpty(assembly.Location);

    /// <summary>Code of a Roslyn script: its types nest in a "Submission#N" class.</summary>
    private static bool IsScriptSubmission(Type type)
    {
        while (type.DeclaringType is { } outer)
            type = outer;
        return IsSubmissionClass(type);
    }

    /// <summary>A script's submission class itself ("Submission#3"), not a type declared in it.</summary>
    private static bool IsSubmissionClass(Type type) =>
        type.DeclaringType is null && type.Name.StartsWith("Submission#", StringComparison.Ordinal);

    /// <summary>What a delegate's target may be: an object that holds nothing but what a lambda captured, read field by field.</summary>
    private static bool IsClosureLike(Type type) => IsClosureType(type) || IsSingletonType(type) || IsSubmissionClass(type);

    /// <summary>A lambda's display class: "&lt;&gt;c__DisplayClass0_0".</summary>
    internal static bool IsClosureType(Type type) =>
        type.IsClass && type.Name.StartsWith("<>c__DisplayClass", StringComparison.Ordinal) && IsCompilerGenerated(type);

    /// <summary>The "&lt;&gt;c" singleton that holds a class's non-capturing lambdas.</summary>
    private static bool IsSingletonType(Type type) =>
        type.IsClass && type.Name == "<>c" && IsCompilerGenerated(type);

    // Roslyn scripting leaves the attribute off its closures; their names are unspeakable in C# all the same.
    private static bool IsCompilerGenerated(Type type) =>
        type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false) || IsScriptSubmission(type);

    /// <summary>What every package of one method shares.</summary>
    /// <param name="DeclaringType">The type declaring the method.</param>
    /// <param name="OnClosure">Whether the declaring type is a lambda's display class, a "&lt;&gt;c" singleton or a script's submission class.</param>
    /// <param name="FieldsRead">The fields the method reads (none for a static method).</param>
    /// <param name="Bare">Its package without captured values: the whole package when it reads none.</param>
    private sealed record MethodShape(
        Type DeclaringType, bool OnClosure, IReadOnlySet<FieldKey> FieldsRead, DelegatePackage Bare);
}

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
    /// <summary>Packages <paramref name="function"/>, or throws <see cref="DelegateNotShippableException"/> naming the reason.</summary>
    public static DelegatePackage Package(Delegate function)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (function.GetInvocationList().Length > 1)
            throw DelegateErrors.Multicast(function);

        var method = function.Method;
        if (method is DynamicMethod || method.DeclaringType is null)
            throw DelegateErrors.Dynamic(method);
        var declaringType = method.DeclaringType;
        var assembly = method.Module.Assembly;
        if (assembly.IsDynamic || string.IsNullOrEmpty(assembly.Location))
            throw DelegateErrors.DynamicAssembly(method, assembly);
        if (method.Module != assembly.ManifestModule)
            throw DelegateErrors.MultiModule(method);
        if (method.IsGenericMethod || declaringType.IsGenericType || declaringType.ContainsGenericParameters)
            throw DelegateErrors.Generic(method);

        var target = function.Target;
        var captured = new List<CapturedValue>();
        if (method.IsStatic)
        {
            if (target is not null)
                throw DelegateErrors.BoundStatic(method);
        }
        else
        {
            var targetType = target!.GetType();
            if (!IsClosureType(targetType) && !IsSingletonType(targetType))
            {
                throw method.Name.StartsWith('<')
                    ? DelegateErrors.CapturesThisOnly(method, targetType)
                    : DelegateErrors.InstanceOnObject(method, targetType);
            }
            CollectCaptured(target, prefix: "", FieldsRead(method), method.Module, captured);
        }

        var closure = AssembliesFor(method, assembly);
        return new DelegatePackage(
            closure.Images,
            closure.Id,
            declaringType.FullName!,
            method.MetadataToken,
            method.IsStatic,
            captured,
            [.. method.GetParameters().Select(p => p.ParameterType)],
            method.ReturnType);
    }

    /// <summary>A lambda's display class: "&lt;&gt;c__DisplayClass0_0".</summary>
    internal static bool IsClosureType(Type type) =>
        type.IsClass && type.Name.StartsWith("<>c__DisplayClass", StringComparison.Ordinal) && IsCompilerGenerated(type);

    /// <summary>The "&lt;&gt;c" singleton that holds a class's non-capturing lambdas.</summary>
    private static bool IsSingletonType(Type type) =>
        type.IsClass && type.Name == "<>c" && IsCompilerGenerated(type);

    private static bool IsCompilerGenerated(Type type) => type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false);
}

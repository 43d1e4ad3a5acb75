using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;

namespace CapCluster.Client.Internal.Delegates;

internal static partial class DelegatePackager
{
    private const BindingFlags InstanceFields = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    // Reading IL is the costly part of packaging; a method's IL never changes, so once per method per process.
    private static readonly ConditionalWeakTable<MethodInfo, IReadOnlySet<int>> FieldsReadCache = new();

    /// <summary>
    /// Tokens of every field read (ldfld, ldflda) by <paramref name="root"/> and by the compiler-generated code
    /// it reaches: local functions, nested lambdas, and the state machine of an async or iterator lambda
    /// (whose stub only copies the closure into the state machine, so reading the stub alone would miss every use).
    /// </summary>
    private static IReadOnlySet<int> FieldsRead(MethodInfo root) =>
        FieldsReadCache.GetValue(root, static method => ReadFields(method));

    private static HashSet<int> ReadFields(MethodInfo root)
    {
        var module = root.Module;
        var read = new HashSet<int>();
        var visited = new HashSet<MethodBase>();
        var pending = new Stack<MethodBase>();
        pending.Push(root);
        while (pending.TryPop(out var method))
        {
            if (!visited.Add(method))
                continue;
            if (method.GetCustomAttribute<StateMachineAttribute>() is { } stateMachine &&
                stateMachine.StateMachineType.GetMethod("MoveNext", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic) is { } moveNext)
            {
                pending.Push(moveNext);
            }
            if (method.GetMethodBody()?.GetILAsByteArray() is not { } il)
                continue;

            foreach (var (code, token) in IlReader.TokenInstructions(il))
            {
                if (code == OpCodes.Ldfld || code == OpCodes.Ldflda)
                {
                    if (TryResolve(() => module.ResolveField(token)) is { } field && field.Module == module)
                        read.Add(field.MetadataToken);
                }
                else if (code == OpCodes.Call || code == OpCodes.Callvirt || code == OpCodes.Newobj ||
                         code == OpCodes.Ldftn || code == OpCodes.Ldvirtftn)
                {
                    if (TryResolve(() => module.ResolveMethod(token)) is { } callee && callee.Module == module && IsGeneratedCode(callee))
                        pending.Push(callee);
                }
            }
        }
        return read;
    }

    private static bool IsGeneratedCode(MethodBase method) =>
        method.Name.StartsWith('<') ||
        method.DeclaringType is { } type && (type.Name.StartsWith('<') || type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false));

    /// <summary>
    /// Generic members, or members of a generic state machine, need type arguments to resolve; they cannot
    /// be closure fields of a non-generic lambda, so an unresolvable token is simply not one of ours.
    /// </summary>
    private static T? TryResolve<T>(Func<T?> resolve) where T : class
    {
        try
        {
            return resolve();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// Adds the fields of <paramref name="target"/> that were read. A field holding an outer closure
    /// ("CS$&lt;&gt;8__locals1") is not a value: it is followed, and its fields are named "CS$&lt;&gt;8__locals1.factor".
    /// </summary>
    private static void CollectCaptured(object target, string prefix, IReadOnlySet<int> read, Module module, List<CapturedValue> into)
    {
        foreach (var field in target.GetType().GetFields(InstanceFields))
        {
            if (field.Module != module || !read.Contains(field.MetadataToken))
                continue;
            var value = field.GetValue(target);
            var path = prefix + field.Name;
            if (IsClosureType(field.FieldType))
            {
                // An unset outer closure would fail the same way on the engine: nothing to send.
                if (value is not null)
                    CollectCaptured(value, path + ".", read, module, into);
                continue;
            }
            into.Add(new CapturedValue(path, VariableName(field.Name), field.FieldType, value));
        }
    }

    /// <summary>Closure fields are named after the captured local; "&lt;&gt;4__this" is <c>this</c>.</summary>
    internal static string VariableName(string fieldName)
    {
        if (fieldName == "<>4__this")
            return "this";
        if (fieldName.StartsWith('<') && fieldName.IndexOf('>') is > 1 and var close)
            return fieldName[1..close];
        return fieldName;
    }
}

using System.Collections.Concurrent;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;

namespace CapCluster.Client.Internal.Delegates;

internal static partial class DelegatePackager
{
    private const BindingFlags InstanceFields = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    // Reading IL is the costly part of packaging; a method's IL never changes, so once per method per process.
    private static readonly ConditionalWeakTable<MethodInfo, IReadOnlySet<FieldKey>> FieldsReadCache = new();

    /// <summary>
    /// Every field read (ldfld, ldflda) by <paramref name="root"/> and by the code it reaches that is part of its
    /// closure: the compiler-generated code (local functions, nested lambdas, and the state machine of an async or
    /// iterator lambda, whose stub only copies the closure into the state machine, so reading the stub alone would
    /// miss every use) and, in a script, the methods of the submission classes (a function of an earlier cell reads
    /// that cell's variables), which may lie in other assemblies.
    /// </summary>
    private static IReadOnlySet<FieldKey> FieldsRead(MethodInfo root) =>
        FieldsReadCache.GetValue(root, static method => ReadFields(method));

    private static HashSet<FieldKey> ReadFields(MethodInfo root)
    {
        var read = new HashSet<FieldKey>();
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

            var module = method.Module;
            foreach (var (code, token) in IlReader.TokenInstructions(il))
            {
                if (code == OpCodes.Ldfld || code == OpCodes.Ldflda)
                {
                    // Only a closure's fields can be captured values: a field of any other object is read on the engine.
                    if (TryResolve(() => module.ResolveField(token)) is { DeclaringType: { } owner } field && IsClosureLike(owner))
                        read.Add(FieldKey.Of(field));
                }
                else if (code == OpCodes.Call || code == OpCodes.Callvirt || code == OpCodes.Newobj ||
                         code == OpCodes.Ldftn || code == OpCodes.Ldvirtftn)
                {
                    if (TryResolve(() => module.ResolveMethod(token)) is { } callee &&
                        (callee.Module == root.Module && IsGeneratedCode(callee) || callee.DeclaringType is { } type && IsSubmissionClass(type)))
                    {
                        pending.Push(callee);
                    }
                }
            }
        }
        return read;
    }

    /// <summary>A field by its module and token: the same field however it was reached.</summary>
    private readonly record struct FieldKey(Module Module, int Token)
    {
        public static FieldKey Of(FieldInfo field) => new(field.Module, field.MetadataToken);
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
    /// ("CS$&lt;&gt;8__locals1") is not a value: it is followed, and its fields are named "CS$&lt;&gt;8__locals1.factor";
    /// so is one holding a script's submission ("&lt;&gt;4__this", "&lt;Submission#0&gt;"), whose fields are its variables.
    /// A field holding a delegate is packaged as one, with its own captured values under its path and a "/" ("f/k").
    /// </summary>
    private static void CollectCaptured(
        object target, string prefix, IReadOnlySet<FieldKey> read, Delegate function, Chain? outer, List<CapturedValue> into, ref List<NestedDelegate>? delegates)
    {
        foreach (var field in FieldsOf(target.GetType(), read))
        {
            var value = field.Field.GetValue(target);
            var path = prefix.Length == 0 ? field.Field.Name : prefix + field.Field.Name;
            if (field.IsLink)
            {
                // An unset outer closure would fail the same way on the engine: nothing to send.
                if (value is not null)
                    CollectCaptured(value, path + ".", read, function, outer, into, ref delegates);
                continue;
            }
            if (field.HoldsDelegate && value is Delegate held)
            {
                AddHeld(held, path, field.Variable, new Chain(function, outer), into, delegates ??= []);
                continue;
            }
            into.Add(new CapturedValue(path, field.Variable, field.Field.FieldType, value));
        }
    }

    // Which fields of a target type a method reads, and what each is, are the same for every package of it.
    private static readonly ConditionalWeakTable<IReadOnlySet<FieldKey>, ConcurrentDictionary<Type, ReadField[]>> ReadFieldsByType = new();

    /// <summary>The fields of <paramref name="type"/> among <paramref name="read"/>, worked out once per type and method.</summary>
    private static ReadField[] FieldsOf(Type type, IReadOnlySet<FieldKey> read) =>
        ReadFieldsByType.GetValue(read, static _ => new()).GetOrAdd(type, static (type, read) =>
        [
            .. type.GetFields(InstanceFields).Where(f => read.Contains(FieldKey.Of(f))).Select(f => new ReadField(
                f,
                VariableName(f.Name),
                IsClosureType(f.FieldType) || IsSubmissionClass(f.FieldType),
                // Only a field of a delegate type can be given one on the engine: one held as an object is a value, and refused as one.
                f.FieldType.IsSubclassOf(typeof(MulticastDelegate)))),
        ], read);

    /// <summary>A field a method reads from its target.</summary>
    /// <param name="Field">The field.</param>
    /// <param name="Variable">The C# name of the variable it holds (see <see cref="VariableName"/>).</param>
    /// <param name="IsLink">It holds an outer closure or a script's submission, followed rather than sent.</param>
    /// <param name="HoldsDelegate">Its type is a delegate type: a delegate in it ships as one.</param>
    private sealed record ReadField(FieldInfo Field, string Variable, bool IsLink, bool HoldsDelegate);

    /// <summary>A delegate the method reads from a captured variable: its method, and its own captured values and delegates under its path.</summary>
    private static void AddHeld(Delegate held, string path, string variable, Chain chain, List<CapturedValue> into, List<NestedDelegate> delegates)
    {
        if (chain.Holds(held))
            throw DelegateErrors.HeldRecursive(chain.Function.Method, variable);
        if (IsFramework(held.Method.Module.Assembly))
            throw DelegateErrors.HeldFramework(chain.Function.Method, variable, held.Method);
        DelegatePackage package;
        try
        {
            package = Package(held, chain);
        }
        catch (DelegateNotShippableException e)
        {
            throw DelegateErrors.Held(chain.Function.Method, variable, e);
        }

        delegates.Add(new NestedDelegate(path, variable, package.Assemblies[0].Hash, package.DeclaringTypeName, package.MethodToken, package.IsStatic));
        foreach (var value in package.Captured)
            into.Add(value with { FieldName = path + "/" + value.FieldName });
        foreach (var inner in package.Delegates)
            delegates.Add(inner with { FieldName = path + "/" + inner.FieldName });
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

using System.Reflection;
using CapCluster.Protocol.V1;

namespace CapCluster.Engine.Internal.Delegates;

internal sealed partial class DelegateRunner
{
    /// <summary>
    /// Invokes method <paramref name="methodToken"/> of the shipped assembly named first in <paramref name="assemblyHashes"/>,
    /// whose dependencies resolve to the images the others name.
    /// Instance methods run on a rebuilt closure: each captured field path ("a.b" reaches through a nested
    /// closure) is set to its value converted by <paramref name="convert"/> to the field's type; a "&lt;&gt;c"
    /// singleton with nothing captured is taken from its "&lt;&gt;9" field. Each of <paramref name="delegates"/> is
    /// rebuilt the same way, on the values under its path and a "/" ("f/k"), and set in its field. A returned Task or
    /// ValueTask is awaited and its result returned (null for a non-generic one). The user method's own exceptions
    /// propagate unwrapped, with their stack trace.
    /// </summary>
    public object? Invoke(
        IReadOnlyList<string> assemblyHashes,
        string declaringTypeName,
        int methodToken,
        bool isStatic,
        IReadOnlyList<(string FieldName, object? Value)> captured,
        IReadOnlyList<object?> arguments,
        Func<object?, Type, object?> convert,
        IReadOnlyList<CapturedDelegate>? delegates = null)
    {
        var assembly = LoadShipped(assemblyHashes);
        var resolved = Resolve(assembly, assemblyHashes[0], declaringTypeName, methodToken, isStatic);
        var method = resolved.Method;
        delegates ??= [];
        var target = isStatic ? null
            : captured.Count == 0 && delegates.Count == 0 && resolved.Singleton is { } singleton ? singleton
            : BuildTarget(method.DeclaringType!, assemblyHashes, assembly, captured, delegates, convert);

        var parameters = resolved.ParameterTypes;
        if (parameters.Length != arguments.Count)
            throw DelegateRunnerErrors.ArgumentCount($"{declaringTypeName}.{method.Name}", parameters.Length, arguments.Count);
        var args = parameters.Length == 0 ? [] : new object?[parameters.Length];
        for (var i = 0; i < args.Length; i++)
            args[i] = convert(arguments[i], parameters[i]);

        var result = method.Invoke(target, BindingFlags.DoNotWrapExceptions, binder: null, args, culture: null);
        return Await(result, method.ReturnType);
    }

    /// <summary>
    /// Method <paramref name="token"/> of <paramref name="assembly"/>, checked against the type and staticness the call
    /// names, with what every call of it needs: resolved and checked once per method of the current context (a task farm
    /// runs one lambda thousands of times), again for a call that names it otherwise (which then fails as before).
    /// </summary>
    private ResolvedMethod Resolve(Assembly assembly, string hash, string typeName, int token, bool isStatic)
    {
        lock (_gate)
        {
            if (_methods.TryGetValue((assembly, token), out var known) && known.Method.IsStatic == isStatic && known.TypeName == typeName)
                return known;
        }

        var method = ResolveMethod(assembly, hash, typeName, token, isStatic);
        var declaring = method.DeclaringType!;
        var singleton = !isStatic && declaring.GetField("<>9", AnyStatic) is { } field && field.FieldType == declaring ? field.GetValue(null) : null;
        var resolved = new ResolvedMethod(method, typeName, [.. method.GetParameters().Select(p => p.ParameterType)], singleton);
        lock (_gate)
        {
            // Kept only while the assembly is the current context's (a context replaced meanwhile is left to unload).
            if (_loaded.TryGetValue(hash.ToLowerInvariant(), out var current) && current == assembly)
                _methods[(assembly, token)] = resolved;
        }

        return resolved;
    }

    private static MethodInfo ResolveMethod(Assembly assembly, string hash, string typeName, int token, bool isStatic)
    {
        MethodBase? resolved;
        try
        {
            resolved = assembly.ManifestModule.ResolveMethod(token);
        }
        catch (ArgumentException e)
        {
            throw DelegateRunnerErrors.MethodNotFound(hash, typeName, token, e.Message);
        }
        if (resolved is not MethodInfo method)
            throw DelegateRunnerErrors.MethodNotFound(hash, typeName, token, "the token names a constructor");
        if (method.DeclaringType?.FullName != typeName)
            throw DelegateRunnerErrors.MethodNotFound(hash, typeName, token, $"the token names {method.DeclaringType?.FullName}.{method.Name}");
        if (method.IsStatic != isStatic)
            throw DelegateRunnerErrors.MethodNotFound(hash, typeName, token, $"{method.Name} is {(method.IsStatic ? "" : "not ")}static");
        return method;
    }

    /// <summary>A method resolved and checked for calls naming it by <paramref name="TypeName"/>; <paramref name="Singleton"/> is its "&lt;&gt;c" class's instance, when it is one.</summary>
    private sealed record ResolvedMethod(MethodInfo Method, string TypeName, Type[] ParameterTypes, object? Singleton);

    /// <summary>
    /// The target of a method of <paramref name="type"/>, and of each delegate it reads: every captured value is set on the
    /// object its path starts from ("" the method's target, "f/" the target of the delegate held at "f"), then every
    /// delegate is made on its own target and set in its field.
    /// </summary>
    private object BuildTarget(
        Type type, IReadOnlyList<string> hashes, Assembly declaring, IReadOnlyList<(string FieldName, object? Value)> captured,
        IReadOnlyList<CapturedDelegate> delegates, Func<object?, Type, object?> convert)
    {
        var root = NewInstance(type);
        if (delegates.Count == 0)
        {
            foreach (var (path, value) in captured)
                SetField(root, path, path, fieldType => convert(value, fieldType));
            LinkSubmissions(root, []);
            return root;
        }

        // Paths holding something: a delegate whose target holds nothing is its class's singleton, as the method's own is.
        var holders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, _) in captured)
            holders.Add(HolderOf(path));
        foreach (var held in delegates)
            holders.Add(HolderOf(held.Name));

        var targets = new Dictionary<string, object?>(StringComparer.Ordinal) { [""] = root };
        var methods = new MethodInfo[delegates.Count];
        for (var i = 0; i < delegates.Count; i++)
        {
            var held = delegates[i];
            if ((uint)held.Assembly >= (uint)hashes.Count)
                throw DelegateRunnerErrors.HeldAssembly(held.Name, held.Assembly, hashes.Count);
            var assembly = held.Assembly == 0 ? declaring : LoadMember(hashes[held.Assembly]);
            var resolved = Resolve(assembly, hashes[held.Assembly], held.DeclaringType, held.MethodToken, held.IsStatic);
            var prefix = held.Name + "/";
            var target = held.IsStatic ? null
                : !holders.Contains(prefix) && resolved.Singleton is { } singleton ? singleton
                : NewInstance(resolved.Method.DeclaringType!);
            if (!targets.TryAdd(prefix, target))
                throw DelegateRunnerErrors.HeldTwice(held.Name);
            methods[i] = resolved.Method;
        }

        foreach (var (path, value) in captured)
            SetField(TargetOf(targets, path), path[(path.LastIndexOf('/') + 1)..], path, fieldType => convert(value, fieldType));
        for (var i = 0; i < delegates.Count; i++)
        {
            var (path, method) = (delegates[i].Name, methods[i]);
            var target = targets[path + "/"];
            SetField(TargetOf(targets, path), path[(path.LastIndexOf('/') + 1)..], path, fieldType => MakeDelegate(fieldType, target, method, path));
        }

        var empty = new Dictionary<Type, object>();
        foreach (var target in targets.Values)
        {
            if (target is not null)
                LinkSubmissions(target, empty);
        }
        return root;
    }

    /// <summary>"" for a path of the method's target, "f/" for one of the target of the delegate held at "f".</summary>
    private static string HolderOf(string path) => path[..(path.LastIndexOf('/') + 1)];

    private static object TargetOf(Dictionary<string, object?> targets, string path) =>
        targets.GetValueOrDefault(HolderOf(path)) ?? throw DelegateRunnerErrors.NoHolder(path);

    /// <summary>Sets the field at <paramref name="fields"/> ("a.b" reaches through a nested closure, made when unset) to what <paramref name="valueFor"/> gives for its type.</summary>
    private static void SetField(object target, string fields, string path, Func<Type, object?> valueFor)
    {
        var holder = target;
        var segments = fields.Split('.');
        for (var i = 0; i < segments.Length - 1; i++)
        {
            var link = FieldOf(holder.GetType(), segments[i], path);
            var next = link.GetValue(holder);
            if (next is null)
            {
                next = NewInstance(link.FieldType);
                link.SetValue(holder, next);
            }
            holder = next;
        }
        var field = FieldOf(holder.GetType(), segments[^1], path);
        field.SetValue(holder, valueFor(field.FieldType));
    }

    private static Delegate MakeDelegate(Type type, object? target, MethodInfo method, string path)
    {
        if (!typeof(Delegate).IsAssignableFrom(type))
            throw DelegateRunnerErrors.HeldType(path, type, method, "the field does not hold a delegate");
        try
        {
            return Delegate.CreateDelegate(type, target, method);
        }
        catch (ArgumentException e)
        {
            throw DelegateRunnerErrors.HeldType(path, type, method, e.Message);
        }
    }

    /// <summary>
    /// A script's submission object reaches each earlier one it uses through a field ("&lt;Submission#0&gt;"). A lambda that
    /// calls a function of an earlier input or cell needs that link even when it reads none of that input's variables
    /// (and so no captured path made it): every link left empty, in the target and in the closures and submissions it
    /// holds, gets an empty submission, one per class, as the script had one. Fields are told by their names: another
    /// field's type may not load here at all (the console's globals, "&lt;host-object&gt;", stay in the console).
    /// </summary>
    private static void LinkSubmissions(object holder, Dictionary<Type, object> empty)
    {
        foreach (var field in holder.GetType().GetFields(AnyInstance))
        {
            if (field.Name.StartsWith("<Submission#", StringComparison.Ordinal) || field.Name == "<>4__this" && IsSubmissionClass(field.FieldType))
            {
                if (field.GetValue(holder) is { } linked)
                {
                    LinkSubmissions(linked, empty);
                    continue;
                }
                if (!empty.TryGetValue(field.FieldType, out var created))
                {
                    created = NewInstance(field.FieldType);
                    empty.Add(field.FieldType, created);
                    LinkSubmissions(created, empty);
                }
                field.SetValue(holder, created);
            }
            else if (IsClosureLink(field.Name) && field.GetValue(holder) is { } outer)
            {
                LinkSubmissions(outer, empty);
            }
        }
    }

    /// <summary>A script's submission class ("Submission#3"): Roslyn scripting's name for the class of one input.</summary>
    private static bool IsSubmissionClass(Type type) =>
        type.DeclaringType is null && type.Name.StartsWith("Submission#", StringComparison.Ordinal);

    /// <summary>A closure's field holding its enclosing closure ("CS$&lt;&gt;8__locals1") or the submission it was made in ("&lt;&gt;4__this").</summary>
    private static bool IsClosureLink(string fieldName) =>
        fieldName == "<>4__this" || fieldName.StartsWith("CS$<>8__locals", StringComparison.Ordinal);

    private static FieldInfo FieldOf(Type type, string name, string path) =>
        type.GetField(name, AnyInstance) ?? throw DelegateRunnerErrors.NoSuchField(type.FullName!, path);

    private static object? Await(object? result, Type returnType)
    {
        switch (result)
        {
            case null:
                return null;
            case Task task when typeof(Task).IsAssignableFrom(returnType):
                task.GetAwaiter().GetResult();
                return returnType.IsGenericType ? returnType.GetProperty(nameof(Task<int>.Result))!.GetValue(task) : null;
            case ValueTask valueTask when returnType == typeof(ValueTask):
                valueTask.GetAwaiter().GetResult();
                return null;
            default:
                if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(ValueTask<>))
                {
                    var asTask = (Task)returnType.GetMethod(nameof(ValueTask<int>.AsTask))!.Invoke(result, null)!;
                    return Await(asTask, typeof(Task<>).MakeGenericType(returnType.GetGenericArguments()));
                }
                return result;
        }
    }
}

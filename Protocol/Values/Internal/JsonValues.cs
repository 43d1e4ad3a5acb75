using System.Reflection;
using System.Runtime.ConstrainedExecution;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CapCluster.Protocol.Values.Internal;

/// <summary>
/// The JSON fallback for plain records and classes: which types qualify (conservatively),
/// and how their type names are resolved on the receiving side.
/// </summary>
internal static class JsonValues
{
    /// <summary>Largest JSON value decoded: 16 MiB (large data travels as arrays).</summary>
    public const int MaxBytes = 16 << 20;

    /// <summary>Deepest JSON nesting decoded.</summary>
    public const int MaxDepth = 64;

    private const int MaxProbeDepth = 8;

    // Namespaces whose types are handles on the running process or the machine, not data.
    private static readonly string[] s_refusedNamespaces =
    [
        "System.IO", "System.Net", "System.Threading", "System.Reflection", "System.Diagnostics",
        "System.Runtime.InteropServices", "System.Runtime.Loader", "Microsoft.Win32",
    ];

    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        IncludeFields = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        MaxDepth = MaxDepth,
    };

    /// <summary>Why <paramref name="type"/> cannot travel as JSON, or null when it may.</summary>
    public static string? Refusal(Type type) => Refusal(type, 0, new HashSet<Type>());

    private static string? Refusal(Type type, int depth, HashSet<Type> seen)
    {
        if (!seen.Add(type) || depth > MaxProbeDepth)
        {
            return null;
        }

        if (typeof(Delegate).IsAssignableFrom(type))
        {
            return "it is a delegate, code rather than data: ship it as a call of its own (ApplyAsync, MapAsync, a DelegateTask); "
                + "a lambda may call a delegate held in a variable it reads, which ships with it, but not one inside a value or passed as an argument";
        }

        if (type.IsPointer || type.IsByRef || type.IsByRefLike || type == typeof(IntPtr) || type == typeof(UIntPtr)
            || type.IsFunctionPointer)
        {
            return "it is a pointer or reference into this process's memory";
        }

        if (typeof(Type).IsAssignableFrom(type) || typeof(MemberInfo).IsAssignableFrom(type)
            || typeof(Assembly).IsAssignableFrom(type) || typeof(Module).IsAssignableFrom(type))
        {
            return "it is reflection metadata, not data";
        }

        if (typeof(SafeHandle).IsAssignableFrom(type) || typeof(CriticalFinalizerObject).IsAssignableFrom(type)
            || typeof(MarshalByRefObject).IsAssignableFrom(type))
        {
            return "it is a handle on a resource of this process, not data (no JSON form)";
        }

        string ns = type.Namespace ?? string.Empty;
        foreach (string refused in s_refusedNamespaces)
        {
            if (ns == refused || ns.StartsWith(refused + ".", StringComparison.Ordinal))
            {
                return "it is not data (no JSON form)";
            }
        }

        if (type.IsGenericType)
        {
            foreach (var argument in type.GetGenericArguments())
            {
                if (Refusal(argument, depth + 1, seen) is { } inner)
                {
                    return $"it holds {ValueErrors.TypeName(argument)}, and {inner}";
                }
            }
        }

        if (type.IsArray)
        {
            var element = type.GetElementType()!;
            return Refusal(element, depth + 1, seen) is { } inner ? $"it holds {ValueErrors.TypeName(element)}, and {inner}" : null;
        }

        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(object)
            || type == typeof(Uri))
        {
            return null;
        }

        if (!type.IsValueType && !type.IsAbstract && !HasJsonConstructor(type))
        {
            return "it has no public parameterless constructor and no JSON constructor, so it cannot be rebuilt";
        }

        foreach (var member in SerializedMembers(type))
        {
            if (Refusal(member.Type, depth + 1, seen) is { } inner)
            {
                return $"its member '{member.Name}' is {ValueErrors.TypeName(member.Type)}, and {inner}";
            }
        }

        return null;
    }

    private static bool HasJsonConstructor(Type type)
    {
        var constructors = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance);
        return constructors.Length == 1
            || constructors.Any(c => c.GetParameters().Length == 0)
            || type.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
                .Any(c => c.IsDefined(typeof(JsonConstructorAttribute), inherit: false));
    }

    private static IEnumerable<(string Name, Type Type)> SerializedMembers(Type type)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetMethod is { IsPublic: true } && property.GetIndexParameters().Length == 0
                && !property.IsDefined(typeof(JsonIgnoreAttribute)))
            {
                yield return (property.Name, property.PropertyType);
            }
        }

        foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!field.IsDefined(typeof(JsonIgnoreAttribute)))
            {
                yield return (field.Name, field.FieldType);
            }
        }
    }

    /// <summary>
    /// Resolves a sender's assembly-qualified type name among the assemblies already loaded
    /// here (never loading one from disk because a peer named it), then through
    /// <see cref="ValueCodec.TypeResolver"/>.
    /// </summary>
    /// <returns>The type, and whether <see cref="ValueCodec.TypeResolver"/> named it (which counts as agreeing to it).</returns>
    public static (Type? Type, bool FromResolver) Resolve(string typeName)
    {
        Type? type = null;
        try
        {
            type = Type.GetType(typeName, LoadedAssembly, null, throwOnError: false);
        }
        catch (Exception e) when (e is ArgumentException or FileLoadException or BadImageFormatException or TypeLoadException)
        {
        }

        return type is not null ? (type, false) : (ValueCodec.TypeResolver?.Invoke(typeName), true);
    }

    private static Assembly? LoadedAssembly(AssemblyName name)
    {
        Assembly? found = null;
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            var candidate = assembly.GetName();
            if (string.Equals(candidate.Name, name.Name, StringComparison.Ordinal))
            {
                if (name.Version is null || candidate.Version == name.Version)
                {
                    return assembly;
                }

                found ??= assembly;
            }
        }

        return found;
    }
}

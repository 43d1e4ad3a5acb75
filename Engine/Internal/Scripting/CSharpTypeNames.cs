using System.Runtime.Loader;
using System.Text;

namespace CapCluster.Engine.Internal.Scripting;

/// <summary>
/// Writes a runtime type as a C# type expression a submission can declare a variable with.
/// Returns null for what C# cannot name from a submission: non-public types, pointers,
/// open generics, and types declared by submissions the caller says are out of reach.
/// </summary>
internal static class CSharpTypeNames
{
    /// <param name="type">The runtime type.</param>
    /// <param name="submissionTypeName">Names a type declared by a submission (nested in its script class), or returns null when it cannot be named.</param>
    public static string? TryName(Type type, Func<Type, string?> submissionTypeName)
    {
        if (type.IsByRef || type.IsPointer || type.IsFunctionPointer || type.ContainsGenericParameters)
            return null;
        if (type.IsArray)
            return TryNameArray(type, submissionTypeName);
        if (AssemblyLoadContext.GetLoadContext(type.Assembly) is SubmissionLoadContext)
            return submissionTypeName(type);
        if (!IsVisible(type))
            return null;

        var arguments = type.IsGenericType ? type.GetGenericArguments() : [];
        var argumentNames = new string[arguments.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            if (TryName(arguments[i], submissionTypeName) is not { } n)
                return null;
            argumentNames[i] = n;
        }
        var builder = new StringBuilder("global::");
        AppendNested(builder, type, argumentNames);
        return builder.ToString();
    }

    private static string? TryNameArray(Type type, Func<Type, string?> submissionTypeName)
    {
        // C# writes the outermost rank first (int[][,] is a vector of 2-D arrays), the reverse of
        // reflection's names, so collect ranks from the outside in.
        var ranks = new List<int>();
        var element = type;
        while (element.IsArray)
        {
            ranks.Add(element.GetArrayRank());
            element = element.GetElementType()!;
        }
        if (TryName(element, submissionTypeName) is not { } name)
            return null;
        var builder = new StringBuilder(name);
        foreach (var rank in ranks)
            builder.Append('[').Append(',', rank - 1).Append(']');
        return builder.ToString();
    }

    private static bool IsVisible(Type type) =>
        type.IsPublic || (type.IsNestedPublic && type.DeclaringType is { } d && IsVisible(d));

    /// <summary>Generic arguments of a nested type list its declaring types' arguments first.</summary>
    private static int AppendNested(StringBuilder builder, Type type, string[] arguments)
    {
        var used = 0;
        if (type.DeclaringType is { } declaring)
        {
            used = AppendNested(builder, declaring, arguments);
            builder.Append('.');
        }
        else if (!string.IsNullOrEmpty(type.Namespace))
        {
            builder.Append(type.Namespace).Append('.');
        }
        var name = type.Name;
        var tick = name.IndexOf('`');
        builder.Append(tick < 0 ? name : name[..tick]);
        var total = type.IsGenericType ? type.GetGenericTypeDefinition().GetGenericArguments().Length : 0;
        if (total > used)
        {
            builder.Append('<').AppendJoin(", ", arguments[used..total]).Append('>');
            used = total;
        }
        return used;
    }

    /// <summary>The C# name of a type declared by a submission, as later submissions of the same
    /// chain see it: its nesting path below the submission class.</summary>
    public static string? SubmissionRelativeName(Type type)
    {
        if (type.IsGenericType)
            return null;
        var parts = new List<string>();
        for (var t = type; t.DeclaringType is not null; t = t.DeclaringType)
            parts.Add(t.Name);
        parts.Reverse();
        return parts.Count == 0 ? null : string.Join('.', parts);
    }
}

using System.Text.Json;
using CapCluster.Protocol.V1;
using CapCluster.Protocol.Values;
using FsCheck;
using FsCheck.Xunit;
using Google.Protobuf;

namespace CapCluster.Protocol.Tests.Values;

/// <summary>
/// Properties of the JSON fallback over generated input: a peer naming any loaded type the receiver did not agree to
/// gets a <see cref="JsonElement"/>, never an instance; whatever bytes it sends, decoding returns or throws
/// <see cref="MalformedValueException"/>; nesting is accepted up to 64 levels and refused beyond.
/// </summary>
public sealed class ValueDecoderPropertyTests
{
    /// <summary>Concrete framework types with a public parameterless constructor that no receiver here agreed to.</summary>
    private static readonly Lazy<Type[]> NotAgreed = new(() => new[] { typeof(object), typeof(System.Text.StringBuilder), typeof(Uri), typeof(System.Collections.ArrayList) }
        .Select(t => t.Assembly)
        .Distinct()
        .SelectMany(a => a.GetExportedTypes())
        .Where(t => t is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false } && t.GetConstructor(Type.EmptyTypes) is not null)
        .Where(t => !ValueTypes.IsAgreed(t))
        .OrderBy(t => t.FullName, StringComparer.Ordinal)
        .ToArray());

    private static Value Json(string? typeName, byte[] utf8) =>
        new() { Json = new JsonObject { TypeName = typeName ?? "", Utf8Json = ByteString.CopyFrom(utf8) } };

    private static object? DecodeOrMalformed(Value tree)
    {
        try
        {
            return ValueCodec.Decode(tree);
        }
        catch (MalformedValueException)
        {
            return null;
        }
    }

    [Fact]
    public void TheCandidates_IncludeStringBuilder_AndAreMany()
    {
        Assert.Contains(typeof(System.Text.StringBuilder), NotAgreed.Value);
        Assert.True(NotAgreed.Value.Length > 50, $"only {NotAgreed.Value.Length} candidate types");
    }

    [Property(MaxTest = 500)]
    public bool AnyLoadedTypeNotAgreedTo_DecodesAsJsonElement(PositiveInt which)
    {
        var type = NotAgreed.Value[which.Get % NotAgreed.Value.Length];
        var decoded = ValueCodec.Decode(Json(type.AssemblyQualifiedName, "{\"Capacity\":1000,\"X\":1}"u8.ToArray()));
        return decoded is JsonElement { ValueKind: JsonValueKind.Object };
    }

    [Property(MaxTest = 500)]
    public bool AnyBytes_UnderAnyTypeName_DecodeToJsonOrAreMalformed(NonNull<string> typeName, byte[] payload, PositiveInt which)
    {
        // Half the time the name is one of the framework types, half the time whatever the generator made.
        var name = which.Get % 2 == 0 ? typeName.Get : NotAgreed.Value[which.Get % NotAgreed.Value.Length].AssemblyQualifiedName;
        var decoded = DecodeOrMalformed(Json(name, payload ?? []));
        return decoded is null or JsonElement;
    }

    [Property(MaxTest = 200)]
    public bool NestedArrays_AreAcceptedUpTo64Levels_AndMalformedBeyond(PositiveInt levels)
    {
        var depth = 1 + levels.Get % 200;
        var tree = Json(typeof(System.Text.StringBuilder).AssemblyQualifiedName, System.Text.Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth)));
        var decoded = DecodeOrMalformed(tree);
        return depth <= 64 ? decoded is JsonElement { ValueKind: JsonValueKind.Array } : decoded is null;
    }
}

using System.Text.Json.Serialization;

namespace CapCluster.Security.Internal;

// The security folder's JSON files, read and written through source-generated metadata: every process reads one or
// more of them as it starts, and reflection-based serialization made an engine JIT-compile its converters first (101
// methods, fully optimized, before it registered; 8 now, since the generated code is in the engine's composite image).
// The controller, compiled one image per assembly, JIT-compiles the generated code's generics instead (about as many
// as before, quick JIT). Each context keeps the options its files always had, so the files read and write as before.

/// <summary><c>registry.json</c> and the task ledger: camelCase, indented, nulls written, nullable annotations enforced.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    RespectNullableAnnotations = true,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(RegistryDocument))]
[JsonSerializable(typeof(TaskLedger.Document))]
internal sealed partial class RegistryJson : JsonSerializerContext;

/// <summary><c>controller.json</c>: camelCase, indented, nulls left out.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ControllerState))]
internal sealed partial class ControllerStateJson : JsonSerializerContext;

/// <summary><c>audit.anchor</c>: camelCase, one line, nulls left out.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuditAnchor))]
internal sealed partial class AuditAnchorJson : JsonSerializerContext;

/// <summary>A pending admin record in <c>audit.pending</c>: camelCase, one line.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(AuditRecord))]
internal sealed partial class PendingAuditJson : JsonSerializerContext;

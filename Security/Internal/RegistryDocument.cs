using System.Text.Json;
using System.Text.Json.Serialization;

namespace CapCluster.Security.Internal;

/// <summary>The persisted form of the registry (<c>registry.json</c>).</summary>
internal sealed record RegistryDocument(int Version, List<CapabilityRecord> Capabilities)
{
    public const int CurrentVersion = 1;
}

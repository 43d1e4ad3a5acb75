using System.Text.Json;
using System.Text.Json.Serialization;
using CapCluster.Security.Internal;

namespace CapCluster.Security.Tests;

/// <summary>
/// The security folder's files are written and read through source-generated metadata: each must come out as the
/// reflection-based serializer wrote it with the options the file always had, so that files of earlier versions read,
/// and earlier versions read these.
/// </summary>
public sealed class SecurityJsonTests
{
    private static readonly JsonSerializerOptions RegistryOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        RespectNullableAnnotations = true,
        AllowTrailingCommas = false,
    };

    private static readonly JsonSerializerOptions StateOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly JsonSerializerOptions AnchorOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly JsonSerializerOptions PendingOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static readonly DateTimeOffset When = new(2026, 12, 5, 23, 30, 1, 123, TimeSpan.Zero);

    [Fact]
    public void Registry_WithEveryOptionalFieldSetAndUnset_IsWrittenAsBefore_AndReadBack()
    {
        var document = new RegistryDocument(RegistryDocument.CurrentVersion,
        [
            new CapabilityRecord("cap_aaaaaaaaaaaaaaaa", "task", null, When, null, "hash1", "0a1b", false),
            new CapabilityRecord("cap_bbbbbbbbbbbbbbbb", "task", "alice", When, When.AddDays(7), "hash2", "0c2d", true,
                "cap_aaaaaaaaaaaaaaaa", ["Tasks", "GetResults"], 100, When.AddHours(1)),
        ]);

        AssertSameAsBefore(document, RegistryOptions, RegistryJson.Default.RegistryDocument, (a, b) =>
        {
            Assert.Equal(a.Version, b.Version);
            Assert.Equal(a.Capabilities.Count, b.Capabilities.Count);
            Assert.Equal(a.Capabilities[0], b.Capabilities[0]);
            Assert.Equal(a.Capabilities[1] with { AllowedMethods = null }, b.Capabilities[1] with { AllowedMethods = null });
            Assert.Equal(a.Capabilities[1].AllowedMethods, b.Capabilities[1].AllowedMethods);
        });
    }

    [Fact]
    public void Registry_WithANullWhereNoneIsAllowed_IsRefusedAsBefore()
    {
        var json = JsonSerializer.Serialize(new RegistryDocument(1, [new CapabilityRecord("cap_aaaaaaaaaaaaaaaa", "task", null, When, null, "hash1", "0a1b", false)]), RegistryOptions)
            .Replace("\"secretHash\": \"hash1\"", "\"secretHash\": null", StringComparison.Ordinal);

        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, RegistryOptions.GetTypeInfo(typeof(RegistryDocument))));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, RegistryJson.Default.RegistryDocument));
    }

    [Fact]
    public void Ledger_IsWrittenAsBefore_AndReadBack()
    {
        var ledger = new TaskLedger.Document(1, 4096, new Dictionary<string, long> { ["cap_aaaaaaaaaaaaaaaa"] = 12 });

        AssertSameAsBefore(ledger, RegistryOptions, RegistryJson.Default.Document, (a, b) =>
        {
            Assert.Equal((a.Version, a.ReservedThrough), (b.Version, b.ReservedThrough));
            Assert.Equal(a.Charged, b.Charged);
        });
    }

    [Fact]
    public void ControllerState_IsWrittenAsBefore_AndReadBack()
    {
        var state = new ControllerState(1234, "node1", "0.0.0.0", 40001, 40002, ["127.0.0.1", "node1"], When, 40003);

        AssertSameAsBefore(state, StateOptions, ControllerStateJson.Default.ControllerState, (a, b) =>
        {
            Assert.Equal(a with { Locations = [] }, b with { Locations = [] });
            Assert.Equal(a.Locations, b.Locations);
        });
    }

    [Fact]
    public void AuditAnchor_WithAndWithoutItsFileId_IsWrittenAsBefore_AndReadBack()
    {
        AssertSameAsBefore(new AuditAnchor(42, new string('a', 64), "/x/audit.jsonl", "8:1:77"), AnchorOptions, AuditAnchorJson.Default.AuditAnchor, Assert.Equal);
        AssertSameAsBefore(new AuditAnchor(0, new string('0', 64), "/x/audit.jsonl", null), AnchorOptions, AuditAnchorJson.Default.AuditAnchor, Assert.Equal);
    }

    [Fact]
    public void PendingAuditRecord_IsWrittenAsBefore_AndReadBack()
    {
        var record = new AuditRecord(When, null, null, "cap_aaaaaaaaaaaaaaaa", "alice", null, "Revoke", AuditRecord.Accepted, "revoked by uid 0 (pid 7)");

        AssertSameAsBefore(record, PendingOptions, PendingAuditJson.Default.AuditRecord, Assert.Equal);
    }

    private static void AssertSameAsBefore<T>(T value, JsonSerializerOptions before, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> now, Action<T, T> same)
    {
        var written = JsonSerializer.Serialize(value, now);

        Assert.Equal(JsonSerializer.Serialize(value, before), written);
        same(value, JsonSerializer.Deserialize(written, now)!);
        same(value, JsonSerializer.Deserialize<T>(written, before)!);
    }
}

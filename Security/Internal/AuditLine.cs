using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CapCluster.Security.Internal;

/// <summary>
/// One line of the audit log: the record's fields and seq in a fixed order (the canonical JSON that is MACed),
/// followed by "prev" (the previous line's MAC) and "mac" (HMAC-SHA256 under the audit key of prev followed by the
/// canonical JSON). Verification rebuilds the canonical JSON from the parsed values, so the MAC covers the field
/// values, not incidental formatting.
/// </summary>
internal sealed record AuditLine(long Seq, string Time, string? RemoteAddress, string? CertificateFingerprint,
    string? CapabilityId, string? Label, string? Service, string? Method, string Outcome, string? Reason, long Count,
    string Prev, string Mac)
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    private static readonly string[] Fields =
        ["seq", "time", "remoteAddress", "certificateFingerprint", "capabilityId", "label", "service", "method", "outcome", "reason", "count", "prev", "mac"];

    /// <summary>The line for <paramref name="record"/>, its fields capped and escaped (<see cref="AuditText"/>).</summary>
    public static AuditLine Create(long seq, AuditRecord record, string prev, AuditKey key)
    {
        var time = record.Time.ToUniversalTime().ToString(TimeFormat, CultureInfo.InvariantCulture);
        var line = new AuditLine(seq, time, AuditText.Clean(record.RemoteAddress), AuditText.Clean(record.CertificateFingerprint),
            AuditText.Clean(record.CapabilityId), AuditText.Clean(record.Label), AuditText.Clean(record.Service),
            AuditText.Clean(record.Method), AuditText.Clean(record.Outcome)!, AuditText.Clean(record.Reason), record.Count, prev, "");
        return line with { Mac = line.ComputeMac(key) };
    }

    public string ComputeMac(AuditKey key) => key.Mac(Prev + Write(includeChain: false));

    /// <summary>The unkeyed SHA-256 a forger without the key would put where the MAC belongs.</summary>
    public string ComputeUnkeyedHash() =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Prev + Write(includeChain: false))));

    public string ToJson() => Write(includeChain: true);

    public AuditRecord ToRecord() => new(
        DateTimeOffset.ParseExact(Time, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
        RemoteAddress, CertificateFingerprint, CapabilityId, Label, Service, Method, Outcome, Reason, Count);

    private string Write(bool includeChain)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("seq", Seq);
            json.WriteString("time", Time);
            json.WriteString("remoteAddress", RemoteAddress);
            json.WriteString("certificateFingerprint", CertificateFingerprint);
            json.WriteString("capabilityId", CapabilityId);
            json.WriteString("label", Label);
            json.WriteString("service", Service);
            json.WriteString("method", Method);
            json.WriteString("outcome", Outcome);
            json.WriteString("reason", Reason);
            json.WriteNumber("count", Count);
            if (includeChain)
            {
                json.WriteString("prev", Prev);
                json.WriteString("mac", Mac);
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Parses one line strictly: exactly the known fields, with the right types.</summary>
    /// <exception cref="FormatException">Says what is wrong with the line.</exception>
    public static AuditLine Parse(string text)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new FormatException("not valid JSON: " + e.Message, e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new FormatException("not a JSON object");
            var count = 0;
            foreach (var property in root.EnumerateObject())
            {
                if (Array.IndexOf(Fields, property.Name) < 0)
                    throw new FormatException($"unexpected field '{AuditText.Clean(property.Name)}'");
                count++;
            }
            if (count != Fields.Length)
                throw new FormatException($"expected {Fields.Length} fields, found {count}");
            var seqValue = Integer(root, "seq");
            var countValue = Integer(root, "count");
            var time = Required(root, "time");
            if (!DateTimeOffset.TryParseExact(time, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
                throw new FormatException("'time' is not an ISO UTC time");
            return new AuditLine(seqValue, time, Optional(root, "remoteAddress"), Optional(root, "certificateFingerprint"),
                Optional(root, "capabilityId"), Optional(root, "label"), Optional(root, "service"), Optional(root, "method"),
                Required(root, "outcome"), Optional(root, "reason"), countValue, Required(root, "prev"), Required(root, "mac"));
        }
    }

    private static long Integer(JsonElement root, string name)
    {
        var value = root.GetProperty(name);
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var result))
            throw new FormatException($"'{name}' is not an integer");
        return result;
    }

    private static string Required(JsonElement root, string name) =>
        Optional(root, name) ?? throw new FormatException($"'{name}' is missing");

    private static string? Optional(JsonElement root, string name)
    {
        var value = root.GetProperty(name);
        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => value.GetString(),
            _ => throw new FormatException($"'{name}' is not a string"),
        };
    }
}

using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CapCluster.Security.Internal;

/// <summary>
/// One line of the audit log: the record's fields and seq in a fixed order (the canonical JSON that is hashed),
/// followed by "prev" and "hash". Verification rebuilds the canonical JSON from the parsed values, so the
/// hash covers the field values, not incidental formatting.
/// </summary>
internal sealed record AuditLine(long Seq, string Time, string? RemoteAddress, string? CertificateFingerprint,
    string? CapabilityId, string? Label, string? Service, string? Method, string Outcome, string? Reason,
    string Prev, string Hash)
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    private static readonly string[] Fields =
        ["seq", "time", "remoteAddress", "certificateFingerprint", "capabilityId", "label", "service", "method", "outcome", "reason", "prev", "hash"];

    public static AuditLine Create(long seq, AuditRecord record, string prev)
    {
        var time = record.Time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        var line = new AuditLine(seq, time, record.RemoteAddress, record.CertificateFingerprint, record.CapabilityId,
            record.Label, record.Service, record.Method, record.Outcome, record.Reason, prev, "");
        return line with { Hash = line.ComputeHash() };
    }

    public string ComputeHash()
    {
        var canonical = Write(includeChain: false);
        var input = Encoding.UTF8.GetBytes(Prev + canonical);
        return Convert.ToHexStringLower(SHA256.HashData(input));
    }

    public string ToJson() => Write(includeChain: true);

    public AuditRecord ToRecord() => new(
        DateTimeOffset.ParseExact(Time, "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
        RemoteAddress, CertificateFingerprint, CapabilityId, Label, Service, Method, Outcome, Reason);

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
            if (includeChain)
            {
                json.WriteString("prev", Prev);
                json.WriteString("hash", Hash);
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
                    throw new FormatException($"unexpected field '{property.Name}'");
                count++;
            }
            if (count != Fields.Length)
                throw new FormatException($"expected {Fields.Length} fields, found {count}");
            var seq = root.GetProperty("seq");
            if (seq.ValueKind != JsonValueKind.Number || !seq.TryGetInt64(out var seqValue))
                throw new FormatException("'seq' is not an integer");
            var time = Required(root, "time");
            if (!DateTimeOffset.TryParseExact(time, "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
                throw new FormatException("'time' is not an ISO UTC time");
            return new AuditLine(seqValue, time, Optional(root, "remoteAddress"), Optional(root, "certificateFingerprint"),
                Optional(root, "capabilityId"), Optional(root, "label"), Optional(root, "service"), Optional(root, "method"),
                Required(root, "outcome"), Optional(root, "reason"), Required(root, "prev"), Required(root, "hash"));
        }
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

using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace CapCluster.Tests.Shared;

/// <summary>What a forger without the audit key can do to a log, for the tests that check <c>--verify</c> catches it.</summary>
internal static class AuditForgery
{
    /// <summary>Drops line <paramref name="drop"/> and relinks the rest with plain SHA-256 where the keyed MAC belongs.</summary>
    public static string[] RewriteWithSha256(string[] lines, int drop)
    {
        var prev = new string('0', 64);
        var forged = new List<string>();
        var seq = 0L;
        foreach (var line in lines.Where((_, i) => i != drop))
        {
            var node = JsonNode.Parse(line)!.AsObject();
            node["seq"] = ++seq;
            node.Remove("prev");
            node.Remove("mac");
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(prev + node.ToJsonString())));
            node["prev"] = prev;
            node["mac"] = hash;
            forged.Add(node.ToJsonString());
            prev = hash;
        }

        return [.. forged];
    }
}

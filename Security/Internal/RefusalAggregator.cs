using System.Globalization;

namespace CapCluster.Security.Internal;

/// <summary>
/// Turns a flood of refusals into a bounded number of records: per peer address (without its port), call (service and
/// method) and reason, the first refusal of an interval is written at once and the others are counted; when the
/// interval ends each count becomes one record. Keys are bounded; refusals beyond them share one overflow count. A refusal that could not be
/// written (disk full) stays counted and is written with the next flush, so none is lost while the controller runs.
/// </summary>
internal sealed class RefusalAggregator(int maxKeys)
{
    private readonly object sync = new();
    private Dictionary<(string Peer, string Call, string Reason), Bucket> buckets = [];
    private Bucket? overflow;

    /// <summary>Whether <paramref name="record"/> opens a new key (write it now) or was counted in an existing one.</summary>
    public bool Count(AuditRecord record)
    {
        var key = Key(record);
        lock (sync)
        {
            if (buckets.TryGetValue(key, out var bucket))
            {
                bucket.Add(record);
                return false;
            }

            if (buckets.Count >= maxKeys)
            {
                (overflow ??= new Bucket(record with { RemoteAddress = null, CertificateFingerprint = null })).Add(record);
                return false;
            }

            buckets[key] = new Bucket(record);
            return true;
        }
    }

    /// <summary>A refusal that opened a key but could not be written: counted for the next flush.</summary>
    public void Unwritten(AuditRecord record)
    {
        var key = Key(record);
        lock (sync)
        {
            if (buckets.TryGetValue(key, out var bucket))
                bucket.Add(record);
        }
    }

    private static (string Peer, string Call, string Reason) Key(AuditRecord record) =>
        (PeerAddress(record.RemoteAddress), record.Service + "/" + record.Method, record.Reason ?? "");

    /// <summary>Ends the interval: one record per key that counted more than its first refusal.</summary>
    public List<AuditRecord> Drain(DateTimeOffset now, TimeSpan interval)
    {
        Dictionary<(string, string, string), Bucket> ended;
        Bucket? spilled;
        lock (sync)
        {
            (ended, buckets) = (buckets, []);
            (spilled, overflow) = (overflow, null);
        }

        var records = new List<AuditRecord>();
        foreach (var ((peer, _, reason), bucket) in ended)
        {
            if (bucket.Extra > 0)
                records.Add(bucket.Latest with
                {
                    Time = now,
                    RemoteAddress = peer,
                    Count = bucket.Extra,
                    Reason = $"{reason} ({Plural(bucket.Extra)} more from {peer} within {Seconds(interval)})",
                });
        }

        if (spilled is { Extra: > 0 })
            records.Add(spilled.Latest with
            {
                Time = now,
                RemoteAddress = null,
                CertificateFingerprint = null,
                Count = spilled.Extra,
                Reason = $"{Plural(spilled.Extra)} from peers beyond the {maxKeys} peer and reason pairs tracked within {Seconds(interval)}; the last: {spilled.Latest.Reason}",
            });
        return records;
    }

    /// <summary>"ipv4:10.0.0.1:5000" and "10.0.0.1:5000" without the port; anything else as it is.</summary>
    internal static string PeerAddress(string? peer)
    {
        if (string.IsNullOrEmpty(peer))
            return "unknown";
        var prefix = peer.StartsWith("ipv4:", StringComparison.Ordinal) || peer.StartsWith("ipv6:", StringComparison.Ordinal) ? peer[..5] : "";
        var rest = peer[prefix.Length..];
        int colon;
        if (rest.StartsWith('['))
        {
            colon = rest.IndexOf("]:", StringComparison.Ordinal);
            colon = colon < 0 ? -1 : colon + 1;
        }
        else
        {
            colon = rest.IndexOf(':', StringComparison.Ordinal);
            if (colon != rest.LastIndexOf(':'))
                return peer; // a bare IPv6 address: no port to take off
        }

        if (colon <= 0 || colon == rest.Length - 1 || rest.AsSpan(colon + 1).ContainsAnyExceptInRange('0', '9'))
            return peer;
        return prefix + rest[..colon];
    }

    private static string Plural(long count) => count == 1 ? "1 refusal" : $"{count.ToString(CultureInfo.InvariantCulture)} refusals";

    private static string Seconds(TimeSpan interval) => $"{interval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";

    private sealed class Bucket(AuditRecord first)
    {
        public AuditRecord Latest { get; private set; } = first;

        public long Extra { get; private set; }

        public void Add(AuditRecord record)
        {
            Latest = record;
            Extra++;
        }
    }
}

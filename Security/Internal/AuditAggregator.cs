using System.Globalization;

namespace CapCluster.Security.Internal;

/// <summary>
/// Turns a flood of what peers cause into a bounded number of records: per peer address (without its port), call
/// (service and method), reason and outcome, and for an accepted call per capability and certificate too, the first
/// event of an interval is written at once and the others are counted; when the interval ends each count becomes one
/// record. Refusals and accepted calls have <c>maxKeys</c> keys each, so a stranger's refusals from many addresses
/// never take the keys of holders' calls. Refusals beyond their keys share one overflow count; accepted calls beyond
/// theirs are keyed per holder alone (capabilities are the operator's to issue; its first is written at once), so no
/// holder's calls are ever counted in another's record. An event that could not be written (disk full) stays counted and is written with the next flush,
/// so none is lost while the controller runs.
/// </summary>
internal sealed class AuditAggregator(int maxKeys)
{
    private readonly object sync = new();
    private Dictionary<Key, Bucket> buckets = [];
    private Dictionary<Key, Bucket> overflow = [];
    private int refusedKeys;
    private int acceptedKeys;

    /// <summary>
    /// Whether a peer causes <paramref name="record"/> (a refusal, or an accepted call), so that it is aggregated; what
    /// an operator does (furlgen's admin records, the controller's own) never is.
    /// </summary>
    public static bool Aggregates(AuditRecord record) =>
        record.Count == 1 && !record.ByOperator
        && (record.Outcome == AuditRecord.Refused || record.Outcome == AuditRecord.Accepted && record.RemoteAddress is not null);

    /// <summary>Whether <paramref name="record"/> opens a new key (write it now) or was counted in an existing one.</summary>
    public bool Count(AuditRecord record)
    {
        var key = KeyOf(record);
        lock (sync)
        {
            if (buckets.TryGetValue(key, out var bucket))
            {
                bucket.Add(record);
                return false;
            }

            ref var keys = ref record.Outcome == AuditRecord.Refused ? ref refusedKeys : ref acceptedKeys;
            if (keys >= maxKeys)
            {
                // A holder's first call past the keys is written at once too, as every holder's first of an interval is.
                var spill = Spill(key);
                if (overflow.TryGetValue(spill, out var spilled))
                {
                    spilled.Add(record);
                    return false;
                }

                overflow[spill] = spilled = new Bucket(record with { RemoteAddress = null });
                if (record.Outcome == AuditRecord.Accepted)
                    return true;
                spilled.Add(record);
                return false;
            }

            buckets[key] = new Bucket(record);
            keys++;
            return true;
        }
    }

    /// <summary>A refusal that opened a key but could not be written: counted for the next flush.</summary>
    public void Unwritten(AuditRecord record)
    {
        var key = KeyOf(record);
        lock (sync)
        {
            if (buckets.TryGetValue(key, out var bucket))
                bucket.Add(record);
        }
    }

    /// <summary>An event written without being counted (the log had failed a write): the next of its key is counted.</summary>
    public void Written(AuditRecord record)
    {
        var key = KeyOf(record);
        lock (sync)
        {
            ref var keys = ref record.Outcome == AuditRecord.Refused ? ref refusedKeys : ref acceptedKeys;
            if (keys < maxKeys && buckets.TryAdd(key, new Bucket(record)))
                keys++;
        }
    }

    /// <summary>An accepted call that opened a key but could not be written, so did not happen: the next one opens the key again.</summary>
    public void Forget(AuditRecord record)
    {
        var key = KeyOf(record);
        lock (sync)
        {
            if (buckets.TryGetValue(key, out var bucket) && bucket.Extra == 0 && buckets.Remove(key))
                acceptedKeys--;
            else if (overflow.TryGetValue(Spill(key), out var spilled) && spilled.Extra == 0)
                overflow.Remove(Spill(key));
        }
    }

    // A refusal's capability and certificate are what the peer claims, so they do not make keys of their own; an
    // accepted call's are checked, and one holder's calls are never counted in another's record.
    private static Key KeyOf(AuditRecord record) =>
        new(PeerAddress(record.RemoteAddress), record.Service + "/" + record.Method, record.Reason ?? "", record.Outcome,
            record.Outcome == AuditRecord.Accepted ? record.CapabilityId + "/" + record.CertificateFingerprint : "");

    // Past the keys, a refusal counts with every refusal, an accepted call with its holder's.
    private static Key Spill(Key key) => key with { Peer = "", Call = "", Reason = "" };

    /// <summary>Ends the interval: one record per key that counted more than its first event.</summary>
    public List<AuditRecord> Drain(DateTimeOffset now, TimeSpan interval)
    {
        Dictionary<Key, Bucket> ended;
        Dictionary<Key, Bucket> spilled;
        lock (sync)
        {
            (ended, buckets) = (buckets, []);
            (spilled, overflow) = (overflow, []);
            (refusedKeys, acceptedKeys) = (0, 0);
        }

        var records = new List<AuditRecord>();
        foreach (var (key, bucket) in ended)
        {
            if (bucket.Extra > 0)
                records.Add(bucket.Latest with
                {
                    Time = now,
                    RemoteAddress = key.Peer,
                    Count = bucket.Extra,
                    Reason = key.Outcome == AuditRecord.Refused
                        ? $"{key.Reason} ({Plural(bucket.Extra, "refusal")} more from {key.Peer} within {Seconds(interval)})"
                        : $"{(key.Reason.Length == 0 ? "" : key.Reason + "; ")}accepted {(bucket.Extra == 1 ? "once" : $"{bucket.Extra.ToString(CultureInfo.InvariantCulture)} times")} more from {key.Peer} within {Seconds(interval)}",
                });
        }

        foreach (var (key, bucket) in spilled.Where(s => s.Value.Extra > 0))
        {
            records.Add(bucket.Latest with
            {
                Time = now,
                RemoteAddress = null,
                CertificateFingerprint = key.Outcome == AuditRecord.Refused ? null : bucket.Latest.CertificateFingerprint,
                Count = bucket.Extra,
                Reason = key.Outcome == AuditRecord.Refused
                    ? $"{Plural(bucket.Extra, "refusal")} from peers beyond the {maxKeys} peer and reason pairs tracked within {Seconds(interval)}; the last: {bucket.Latest.Reason}"
                    : $"{Plural(bucket.Extra, "accepted call")} of this capability from addresses beyond the {maxKeys} tracked within {Seconds(interval)}; the last: {bucket.Latest.Service}/{bucket.Latest.Method} {bucket.Latest.Reason}".TrimEnd(),
            });
        }

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

    private static string Plural(long count, string noun) => count == 1 ? $"1 {noun}" : $"{count.ToString(CultureInfo.InvariantCulture)} {noun}s";

    private static string Seconds(TimeSpan interval) => $"{interval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";

    private readonly record struct Key(string Peer, string Call, string Reason, string Outcome, string Holder);

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

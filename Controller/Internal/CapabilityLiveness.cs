using CapCluster.Security;

namespace CapCluster.Controller.Internal;

/// <summary>Whether a capability may still act: the gate asks it of every call and connection, the task farm of every task it is about to run.</summary>
internal static class CapabilityLiveness
{
    /// <summary>Why <paramref name="capabilityId"/> (whose registry record is <paramref name="record"/>) may no longer act at <paramref name="now"/>, or null while it may.</summary>
    public static string? WhyNot(string capabilityId, CapabilityRecord? record, DateTimeOffset now) =>
        record is null ? $"capability {capabilityId} is no longer registered"
        : record.Revoked ? $"capability {capabilityId} was revoked at {record.RevokedAt?.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}"
        : record.Expires is { } expires && now >= expires ? $"capability {capabilityId} expired at {expires.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}"
        : null;
}

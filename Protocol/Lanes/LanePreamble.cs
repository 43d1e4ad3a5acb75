using CapCluster.Protocol.DataLanes;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// What each end of a data lane sends the controller's data port before anything else, and
/// the controller's one-byte answer (see lane.proto).
/// </summary>
public static class LanePreamble
{
    /// <summary>The length of a lane id.</summary>
    public const int IdLength = 16;

    /// <summary>The preamble's length: magic, lane id, role.</summary>
    public const int Length = 8 + IdLength + 1;

    /// <summary>The controller's answer when it joined the two ends of a data lane (spliced, or the client's connection handed to the engine), or accepted a stream lane.</summary>
    public const byte Spliced = 1;

    /// <summary>
    /// The controller's answer when both ends of a data lane joined on its local socket: the engine is handed the
    /// client's Unix socket, and the two send plain records on it, without TLS (see <see cref="LanePlainRecordWriter"/>).
    /// </summary>
    public const byte Local = 2;

    /// <summary>The controller's answer when it refused; a UTF-8 reason follows, then the connection closes.</summary>
    public const byte Refused = 0;

    /// <summary>
    /// The TLS application protocol both ends negotiate inside the lane. Version 2 sends the data as lane
    /// records after the handshake (see LaneRecords): an end of version 1 fails the handshake at once
    /// instead of waiting for a key that never comes.
    /// </summary>
    public const string ApplicationProtocol = "capcluster-lane/2";

    private static ReadOnlySpan<byte> Magic => "CAPLANE1"u8;

    /// <summary>The preamble an end sends for <paramref name="laneId"/> in <paramref name="role"/>.</summary>
    public static byte[] Create(ReadOnlySpan<byte> laneId, LaneRole role)
    {
        if (laneId.Length != IdLength)
        {
            throw new ArgumentException($"a lane id has {IdLength} bytes, not {laneId.Length}", nameof(laneId));
        }

        var preamble = new byte[Length];
        Magic.CopyTo(preamble);
        laneId.CopyTo(preamble.AsSpan(8));
        preamble[^1] = (byte)role;
        return preamble;
    }

    /// <summary>Reads a received preamble; false (with nothing set) when it is not one.</summary>
    public static bool TryParse(ReadOnlySpan<byte> preamble, out byte[] laneId, out LaneRole role)
    {
        laneId = [];
        role = default;
        if (preamble.Length != Length || !preamble[..8].SequenceEqual(Magic)
            || preamble[^1] is not ((byte)LaneRole.Client or (byte)LaneRole.Engine or (byte)LaneRole.Stream))
        {
            return false;
        }

        laneId = preamble.Slice(8, IdLength).ToArray();
        role = (LaneRole)preamble[^1];
        return true;
    }
}

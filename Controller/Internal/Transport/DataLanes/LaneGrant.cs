using System.Net.Sockets;
using CapCluster.Security;

namespace CapCluster.Controller.Internal.Transport.DataLanes;

/// <summary>
/// A data lane the controller granted a client (through the gated OpenLane call) to one engine:
/// who may use it, until when the two ends must have joined, and the ends that joined so far.
/// </summary>
internal sealed class LaneGrant(byte[] id, RegisteredEngine engine, CapabilityRecord capability, string clientPeer, string? clientFingerprint, DateTimeOffset joinBy)
{
    public byte[] Id { get; } = id;

    public string IdHex { get; } = Convert.ToHexStringLower(id);

    public RegisteredEngine Engine { get; } = engine;

    public CapabilityRecord Capability { get; } = capability;

    public string ClientPeer { get; } = clientPeer;

    public string? ClientFingerprint { get; } = clientFingerprint;

    public DateTimeOffset JoinBy { get; } = joinBy;

    public Socket? ClientEnd { get; set; }

    public Socket? EngineEnd { get; set; }

    public string Describe() => $"data lane {IdHex[..8]} from capability {Capability.Id} to engine {Engine.Id}";
}

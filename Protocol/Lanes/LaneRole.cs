namespace CapCluster.Protocol.Lanes;

/// <summary>
/// What a connection to the data port is: an end of a data lane (the engine is the TLS server inside it),
/// or a stream lane, which the controller serves itself.
/// </summary>
public enum LaneRole : byte
{
    /// <summary>The client that asked for the lane.</summary>
    Client = 1,

    /// <summary>The engine the lane leads to.</summary>
    Engine = 2,

    /// <summary>A stream lane: one long-lived stream to the controller, which is the TLS server.</summary>
    Stream = 3,
}

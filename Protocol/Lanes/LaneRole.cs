namespace CapCluster.Protocol.Lanes;

/// <summary>Which end of a data lane a connection is. The engine is the TLS server inside the lane.</summary>
public enum LaneRole : byte
{
    /// <summary>The client that asked for the lane.</summary>
    Client = 1,

    /// <summary>The engine the lane leads to.</summary>
    Engine = 2,
}

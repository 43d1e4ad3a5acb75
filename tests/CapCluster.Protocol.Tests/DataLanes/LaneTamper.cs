namespace CapCluster.Protocol.Tests.DataLanes;

/// <summary>What a hostile data port may do to the bytes of one direction of a lane (see <see cref="TestDataPort.Tamper"/>).</summary>
internal abstract class LaneTamper
{
    /// <summary>The bytes to pass on for <paramref name="chunk"/>, and whether to cut the connection after them.</summary>
    public abstract (ReadOnlyMemory<byte> Output, bool Cut) Pass(ReadOnlySpan<byte> chunk);
}

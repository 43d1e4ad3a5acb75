using CapCluster.Protocol.V1;
using Google.Protobuf.Collections;

namespace CapCluster.Protocol.Data;

/// <summary>
/// A message of a stream whose messages come in units: a head that announces blob lengths, then the chunks of those
/// blobs (each naming the head's id), with nothing of the same unit in between. Other messages stand alone.
/// <see cref="UnitReader{TMessage, TBlobs}"/> reads such a stream unit by unit and <see cref="Units"/> writes one;
/// nothing else needs to know that chunks exist.
/// </summary>
/// <typeparam name="TSelf">The message type.</typeparam>
public interface IUnitMessage<TSelf>
    where TSelf : IUnitMessage<TSelf>
{
    /// <summary>The chunk this message carries, or null when it carries none.</summary>
    DataChunk? ChunkOrNull { get; }

    /// <summary>The blob lengths this message announces when it heads a unit; null when it stands alone or is a chunk.</summary>
    RepeatedField<long>? HeadLengths { get; }

    /// <summary>The id its chunks name, when it heads a unit.</summary>
    long UnitId { get; }

    /// <summary>A message that carries <paramref name="chunk"/>.</summary>
    static abstract TSelf OfChunk(DataChunk chunk);
}

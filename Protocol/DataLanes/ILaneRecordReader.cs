using CapCluster.Protocol.Lanes;

namespace CapCluster.Protocol.DataLanes;

/// <summary>
/// How a data lane reads its records: sealed ones (<see cref="LaneRecordReader"/>) on a lane that crosses the
/// network, plain ones (<see cref="LanePlainRecordReader"/>) on a lane between two processes of one host.
/// </summary>
internal interface ILaneRecordReader
{
    /// <summary>The number of the next record, as errors name it.</summary>
    long Record { get; }

    /// <summary>
    /// Reads the next record into the start of <paramref name="destination"/>, which it must fit; returns its
    /// length, or 0 once the other end sent the end-of-stream record.
    /// </summary>
    /// <exception cref="LaneException">A record failed, or the stream ended without the end-of-stream record.</exception>
    int Read(Span<byte> destination);

    /// <summary>Fills <paramref name="destination"/> with as many records as it takes, which must end exactly at its end.</summary>
    /// <exception cref="LaneException">A record failed, or the stream ended first.</exception>
    void ReadExactly(Span<byte> destination);

    /// <summary>As <see cref="ReadExactly(Span{byte})"/>, for a destination that may be read on another thread as well (a large blob).</summary>
    /// <exception cref="LaneException">A record failed, or the stream ended first.</exception>
    void ReadExactly(Memory<byte> destination);
}

/// <summary>How a data lane writes its records (one writer per send); see <see cref="ILaneRecordReader"/>.</summary>
internal interface ILaneRecordWriter : IDisposable
{
    /// <summary>Writes <paramref name="data"/> as records of its own (none if it is empty).</summary>
    void Write(ReadOnlySpan<byte> data);

    /// <summary>Writes the end-of-stream record: nothing may be written after it.</summary>
    void WriteEnd();

    /// <summary>Writes what is still buffered, and waits for every earlier write.</summary>
    /// <exception cref="IOException">A write failed.</exception>
    void Flush();
}

using System.Security.Cryptography;
using CapCluster.Protocol.DataLanes;
using CapCluster.Protocol.Lanes;
using FsCheck;
using FsCheck.Xunit;

namespace CapCluster.Protocol.Tests.DataLanes;

/// <summary>
/// Properties of the lane record reader over generated input: random bytes, a sealed stream cut anywhere, or one
/// with any byte changed either read back exactly what was sealed or fail with a <see cref="LaneException"/> that
/// says what is wrong; never another exception, and never other data.
/// </summary>
public sealed class LaneRecordReaderPropertyTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(LaneRecords.KeySize);

    [Property(MaxTest = 300)]
    public bool RandomBytes_AreRefusedWithALaneException(byte[] wire) =>
        Outcome(wire, 1 + (wire.Length % 5000), null) is "lane" or "empty";

    [Property(MaxTest = 200)]
    public bool ASealedStreamCutAnywhere_GivesItsPrefixThenALaneException(PositiveInt size, PositiveInt cut)
    {
        var plaintext = RandomNumberGenerator.GetBytes(1 + (size.Get % (3 * LaneRecords.MaxPlaintext)));
        var wire = Seal(plaintext);
        var at = cut.Get % wire.Length;
        return Outcome(wire[..at], plaintext.Length, plaintext) is "lane" or "empty";
    }

    [Property(MaxTest = 200)]
    public bool ASealedStreamWithAnyByteChanged_IsRefusedWithALaneException(PositiveInt size, PositiveInt where, byte flip)
    {
        var plaintext = RandomNumberGenerator.GetBytes(1 + (size.Get % (2 * LaneRecords.MaxPlaintext)));
        var wire = Seal(plaintext);
        wire[where.Get % wire.Length] ^= (byte)(flip | 1);
        return Outcome(wire, plaintext.Length, plaintext) == "lane";
    }

    [Property(MaxTest = 50)]
    public bool AnUntouchedSealedStream_ReadsBackExactly(PositiveInt size)
    {
        var plaintext = RandomNumberGenerator.GetBytes(1 + (size.Get % (3 * LaneRecords.MaxPlaintext)));
        return Outcome(Seal(plaintext), plaintext.Length, plaintext) == "intact";
    }

    private static byte[] Seal(byte[] plaintext)
    {
        var wire = new MemoryStream();
        using (var writer = new LaneRecordWriter(wire, new LaneRecordKey(Key.ToArray(), LaneRole.Client)))
        {
            writer.Write(plaintext);
            writer.Flush();
        }

        return wire.ToArray();
    }

    /// <summary>
    /// Reads <paramref name="length"/> bytes: "intact" when they equal <paramref name="expected"/>, "lane" on a
    /// <see cref="LaneException"/> naming something, "empty" when the stream ended cleanly between records, and
    /// "wrong" for other data (any other exception fails the property by escaping).
    /// </summary>
    private static string Outcome(byte[] wire, int length, byte[]? expected)
    {
        var reader = new LaneRecordReader(new MemoryStream(wire), new LaneRecordKey(Key.ToArray(), LaneRole.Client));
        var received = new byte[length];
        try
        {
            var read = 0;
            while (read < length)
            {
                var n = reader.Read(received.AsSpan(read));
                if (n == 0)
                {
                    return read == 0 ? "empty" : "lane";
                }

                read += n;
            }
        }
        catch (LaneException e) when (e.Message.Length > 0)
        {
            return "lane";
        }

        return expected is not null && received.AsSpan().SequenceEqual(expected) ? "intact" : "wrong";
    }
}

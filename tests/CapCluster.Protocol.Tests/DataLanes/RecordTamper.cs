using System.Buffers.Binary;

namespace CapCluster.Protocol.Tests.DataLanes;

/// <summary>
/// Parses the lane's records (4-byte length, data, 16-byte tag) from the bytes that follow the key exchange
/// and passes on, for record n (counted from the first one it sees), what <paramref name="rewrite"/> returns;
/// null passes on the first half of the record and cuts the connection there.
/// </summary>
internal sealed class RecordTamper(Func<long, byte[], IEnumerable<byte[]>?> rewrite) : LaneTamper
{
    private readonly MemoryStream pending = new();
    private long record;

    /// <summary>Flips the bits of <paramref name="mask"/> in byte <paramref name="offset"/> of record <paramref name="target"/>.</summary>
    public static RecordTamper Flip(long target, Func<byte[], int> offset, byte mask = 0x01) => new((n, bytes) =>
    {
        if (n == target)
        {
            bytes[offset(bytes)] ^= mask;
        }

        return [bytes];
    });

    /// <summary>Leaves out record <paramref name="target"/>.</summary>
    public static RecordTamper Drop(long target) => new((n, bytes) => n == target ? [] : [bytes]);

    /// <summary>Sends record <paramref name="target"/> after the one that follows it.</summary>
    public static RecordTamper Swap(long target)
    {
        byte[]? held = null;
        return new((n, bytes) =>
        {
            if (n == target)
            {
                held = bytes;
                return [];
            }

            return n == target + 1 ? [bytes, held!] : [bytes];
        });
    }

    /// <summary>Cuts the connection in the middle of record <paramref name="target"/>.</summary>
    public static RecordTamper CutInside(long target) => new((n, bytes) => n == target ? null : [bytes]);

    public override (ReadOnlyMemory<byte> Output, bool Cut) Pass(ReadOnlySpan<byte> chunk)
    {
        pending.Write(chunk);
        var output = new MemoryStream();
        var buffered = pending.GetBuffer().AsSpan(0, (int)pending.Length);
        var used = 0;
        while (buffered.Length - used >= 4)
        {
            var size = 4 + BinaryPrimitives.ReadInt32BigEndian(buffered[used..]) + 16;
            if (buffered.Length - used < size)
            {
                break;
            }

            var bytes = buffered.Slice(used, size).ToArray();
            used += size;
            var passed = rewrite(record++, bytes);
            if (passed is null)
            {
                output.Write(bytes, 0, bytes.Length / 2);
                return (output.ToArray(), true);
            }

            foreach (var piece in passed)
            {
                output.Write(piece);
            }
        }

        var rest = buffered[used..].ToArray();
        pending.SetLength(0);
        pending.Write(rest);
        return (output.ToArray(), false);
    }
}

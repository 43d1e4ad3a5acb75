namespace CapCluster.Client.Internal;

/// <summary>
/// Reads what a task stream needs of an encoded <c>TaskResult</c> (its id, to hand it to whoever waits) without
/// decoding the rest: the values, the output and the error stay encoded until the outcome is read.
/// </summary>
internal static class EncodedResults
{
    private const int TaskIdField = 1;

    /// <summary>The <c>task_id</c> of the encoded TaskResult <paramref name="encoded"/> (the last one, as protobuf reads repeated scalars).</summary>
    /// <exception cref="InvalidDataException">It is not a well-formed protobuf message.</exception>
    public static long TaskIdOf(ReadOnlySpan<byte> encoded)
    {
        long taskId = 0;
        var at = 0;
        while (at < encoded.Length)
        {
            var tag = ReadVarint(encoded, ref at);
            switch (tag & 7)
            {
                case 0:
                    var value = ReadVarint(encoded, ref at);
                    taskId = tag >> 3 == TaskIdField ? (long)value : taskId;
                    break;
                case 1:
                    Skip(encoded, ref at, 8);
                    break;
                case 2:
                    Skip(encoded, ref at, ReadVarint(encoded, ref at));
                    break;
                case 5:
                    Skip(encoded, ref at, 4);
                    break;
                default:
                    throw Malformed($"wire type {tag & 7} at byte {at}");
            }
        }

        return taskId;
    }

    private static void Skip(ReadOnlySpan<byte> encoded, ref int at, ulong length)
    {
        if (length > (ulong)(encoded.Length - at))
        {
            throw Malformed($"a field of {length} bytes at byte {at} runs past the end ({encoded.Length} bytes)");
        }

        at += (int)length;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> encoded, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= encoded.Length)
            {
                throw Malformed($"a number runs past the end ({encoded.Length} bytes)");
            }

            var b = encoded[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw Malformed($"a number longer than 10 bytes ends at byte {at}");
    }

    private static InvalidDataException Malformed(string what) => new($"the controller sent a task result that is not a well-formed message: {what}");
}

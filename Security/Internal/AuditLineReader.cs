using System.Buffers;
using System.Text;

namespace CapCluster.Security.Internal;

/// <summary>One line of a log file as read: its text (without the newline), where it starts and where the next begins.</summary>
/// <param name="Text">The line's text; null when it is longer than the reader takes.</param>
/// <param name="Start">Offset of its first byte.</param>
/// <param name="Next">Offset just past its newline (or the end of the file).</param>
/// <param name="Complete">Whether it ends in a newline.</param>
internal readonly record struct AuditRawLine(string? Text, long Start, long Next, bool Complete);

/// <summary>
/// Reads a log file line by line in bounded memory, whatever its size, keeping byte offsets so that a writer can
/// continue after the last good line. A line longer than the longest record the controller writes is not kept.
/// </summary>
internal sealed class AuditLineReader(Stream stream)
{
    /// <summary>Longer than any record: 11 fields of at most 512 characters, each escaped to at most 12 bytes.</summary>
    public const int MaxLineBytes = 96 * 1024;

    private readonly byte[] buffer = new byte[64 * 1024];
    private readonly ArrayBufferWriter<byte> line = new();
    private int filled;
    private int position;
    private long offset;

    public bool TryRead(out AuditRawLine result)
    {
        line.Clear();
        var start = offset;
        var tooLong = false;
        while (true)
        {
            if (position == filled)
            {
                filled = stream.Read(buffer);
                position = 0;
                if (filled == 0)
                {
                    result = new AuditRawLine(tooLong ? null : Encoding.UTF8.GetString(line.WrittenSpan), start, offset, Complete: false);
                    return offset > start;
                }
            }

            var available = buffer.AsSpan(position, filled - position);
            var newline = available.IndexOf((byte)'\n');
            var take = newline < 0 ? available : available[..newline];
            if (!tooLong && line.WrittenCount + take.Length <= MaxLineBytes)
                line.Write(take);
            else
                tooLong = true;
            position += take.Length;
            offset += take.Length;
            if (newline >= 0)
            {
                position++;
                offset++;
                result = new AuditRawLine(tooLong ? null : Encoding.UTF8.GetString(line.WrittenSpan), start, offset, Complete: true);
                return true;
            }
        }
    }
}

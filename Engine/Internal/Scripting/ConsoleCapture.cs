using System.Text;

namespace CapCluster.Engine.Internal.Scripting;

/// <summary>
/// Captures what user code writes to Console.Out and Console.Error during one execute.
/// While any capture is open, the console writers are replaced by routers that send each
/// write to the capture of the execution context it comes from (an AsyncLocal), so threads
/// and tasks started by the execute are captured too, and concurrent namespaces (tests) do
/// not mix. When the last capture closes, the real writers are put back.
/// </summary>
internal sealed class ConsoleCapture : IDisposable
{
    private static readonly Lock s_lock = new();
    private static readonly AsyncLocal<ConsoleCapture?> s_current = new();
    private static int s_open;
    private static TextWriter? s_realOut;
    private static TextWriter? s_realError;

    private readonly StringBuilder _out = new();
    private readonly StringBuilder _error = new();
    private readonly ConsoleCapture? _previous;
    private bool _closed;

    private ConsoleCapture()
    {
        _previous = s_current.Value;
    }

    public static ConsoleCapture Begin()
    {
        var capture = new ConsoleCapture();
        lock (s_lock)
        {
            if (s_open++ == 0)
            {
                s_realOut = Console.Out;
                s_realError = Console.Error;
                Console.SetOut(new RoutingWriter(error: false));
                Console.SetError(new RoutingWriter(error: true));
            }
        }
        s_current.Value = capture;
        return capture;
    }

    public string Stdout
    {
        get { lock (_out) return _out.ToString(); }
    }

    public string Stderr
    {
        get { lock (_error) return _error.ToString(); }
    }

    public void Dispose()
    {
        if (_closed)
            return;
        _closed = true;
        s_current.Value = _previous;
        lock (s_lock)
        {
            if (--s_open == 0)
            {
                Console.SetOut(s_realOut!);
                Console.SetError(s_realError!);
                s_realOut = s_realError = null;
            }
        }
    }

    private void Append(bool error, ReadOnlySpan<char> text)
    {
        var target = error ? _error : _out;
        lock (target)
            target.Append(text);
    }

    /// <summary>Writes to the current capture, or to the real console when the writing
    /// context has none (or its execute has finished).</summary>
    private sealed class RoutingWriter(bool error) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) => Write([value]);

        public override void Write(string? value) => Write(value.AsSpan());

        public override void Write(char[] buffer, int index, int count) => Write(buffer.AsSpan(index, count));

        public override void Write(ReadOnlySpan<char> buffer)
        {
            var capture = s_current.Value;
            if (capture is { _closed: false })
            {
                capture.Append(error, buffer);
                return;
            }
            TextWriter? real;
            lock (s_lock)
                real = error ? s_realError : s_realOut;
            (real ?? (error ? Console.Error : Console.Out)).Write(buffer);
        }

        public override void WriteLine(string? value)
        {
            Write(value.AsSpan());
            Write(CoreNewLine);
        }

        public override void Flush()
        {
        }
    }
}

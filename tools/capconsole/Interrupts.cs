namespace CapCluster.Repl;

/// <summary>
/// Ctrl-C in the console: it never ends the process; it cancels the token of whatever runs now (a wait
/// for the engines, local code, the line being typed).
/// </summary>
internal sealed class Interrupts : IDisposable
{
    private CancellationTokenSource current = new();

    public Interrupts() => Console.CancelKeyPress += OnCancelKeyPress;

    /// <summary>A token for the next operation, which the next Ctrl-C cancels.</summary>
    public CancellationToken Next()
    {
        // The old source is not disposed: the handler may be cancelling it at this moment, and it holds no timer.
        var fresh = new CancellationTokenSource();
        Volatile.Write(ref current, fresh);
        return fresh.Token;
    }

    public void Dispose() => Console.CancelKeyPress -= OnCancelKeyPress;

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        Volatile.Read(ref current).Cancel();
    }
}

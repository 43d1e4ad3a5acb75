namespace CapCluster.Repl;

/// <summary>Where the console's input lines come from: RadLine in a terminal, plain lines otherwise.</summary>
internal interface ILineReader
{
    /// <summary>The next line after showing <paramref name="prompt"/>; null at the end of input (Ctrl-D).</summary>
    /// <exception cref="OperationCanceledException">Ctrl-C at the prompt: the line typed so far is dropped.</exception>
    Task<string?> ReadLineAsync(string prompt, CancellationToken cancellationToken);
}

namespace CapCluster.Repl;

/// <summary>Lines from a redirected stdin (a script, a pipe), or a terminal RadLine cannot drive.</summary>
internal sealed class PlainLineReader(TextReader input, TextWriter output) : ILineReader
{
    public async Task<string?> ReadLineAsync(string prompt, CancellationToken cancellationToken)
    {
        await output.WriteAsync(prompt.AsMemory(), cancellationToken).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
    }
}

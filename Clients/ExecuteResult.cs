namespace CapCluster.Client;

/// <summary>One engine's execution of a code string: In/Out number, what it printed, and its trailing expression's value.</summary>
public sealed record ExecuteResult(int EngineId, int ExecutionCount, string Code, string Stdout, string Stderr, bool HasValue, string ValueText, object? Value)
{
    /// <summary>Formatted like IPython's MultiEngineClient: <c>[0] In [1]: code</c> then <see cref="OutputText"/>.</summary>
    public override string ToString() =>
        OutputText.Length > 0 ? $"[{EngineId}] In [{ExecutionCount}]: {Code}{Environment.NewLine}{OutputText}" : $"[{EngineId}] In [{ExecutionCount}]: {Code}";

    /// <summary>What the execution printed and returned, as IPython shows it: <c>[0] Out[1]: output</c>, then <c>[0] Err[1]: ...</c> when it wrote to stderr; empty when neither.</summary>
    public string OutputText
    {
        get
        {
            var output = string.Join(Environment.NewLine, new[] { Stdout.TrimEnd('\n', '\r'), HasValue ? ValueText : string.Empty }.Where(s => s.Length > 0));
            var lines = new List<string>();
            if (output.Length > 0)
            {
                lines.Add($"[{EngineId}] Out[{ExecutionCount}]: {output}");
            }

            if (Stderr.Length > 0)
            {
                lines.Add($"[{EngineId}] Err[{ExecutionCount}]: {Stderr.TrimEnd('\n', '\r')}");
            }

            return string.Join(Environment.NewLine, lines);
        }
    }
}

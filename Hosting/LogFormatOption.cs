namespace CapCluster.Hosting;

/// <summary><c>--log-format</c>, the same on capcontroller, capengine and <c>capcluster start</c> (which passes it on).</summary>
public static class LogFormatOption
{
    /// <summary>The option's name.</summary>
    public const string Name = "--log-format";

    /// <summary>The values it takes; the first is the default.</summary>
    public static readonly IReadOnlyList<string> Choices = ["json", "text"];

    /// <summary>The option's help text.</summary>
    public const string Description = "The component log files' format: json (compact JSON lines, the default) or text";

    /// <summary>The format a value names.</summary>
    /// <exception cref="CapClusterException">It names none: the message names the option and the choices.</exception>
    public static LogFormat Parse(string value) => value switch
    {
        "json" => LogFormat.Json,
        "text" => LogFormat.Text,
        _ => throw new CapClusterException($"{Name} {value}: not a log format; choose {string.Join(" or ", Choices)}"),
    };
}

namespace CapCluster.Hosting;

/// <summary>How a component writes its log file (<c>--log-format</c>).</summary>
public enum LogFormat
{
    /// <summary>Compact JSON, one event per line (CLEF: <c>@t</c>, <c>@mt</c>, <c>@l</c>, <c>@x</c> and the properties). The default.</summary>
    Json,

    /// <summary>One readable line per event: time, level, source and the rendered message.</summary>
    Text,
}

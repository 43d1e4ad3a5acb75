namespace CapCluster.Protocol.Values.Internal;

/// <summary>
/// Rows [Start, Start + Count) of a numeric array along its first dimension, sent as an array of
/// that shape straight from the original's memory: what scatter sends each engine, without a copy.
/// </summary>
internal sealed record ArrayRows(Array Array, int Start, int Count);

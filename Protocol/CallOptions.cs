namespace CapCluster.Protocol;

/// <summary>Per-call options for <see cref="GrpcChannel"/> calls.</summary>
/// <param name="Headers">Extra request headers (lower-case names), added after <see cref="GrpcChannelOptions.DefaultHeaders"/>; default none.</param>
/// <param name="Deadline">When the call must be finished (UTC, or local which is converted); sent as <c>grpc-timeout</c>; default none.</param>
/// <param name="CancellationToken">Cancels the call (RST_STREAM to the server); the call then fails with <see cref="StatusCode.Cancelled"/>.</param>
public readonly record struct CallOptions(
    IReadOnlyList<KeyValuePair<string, string>>? Headers = null,
    DateTime? Deadline = null,
    CancellationToken CancellationToken = default);

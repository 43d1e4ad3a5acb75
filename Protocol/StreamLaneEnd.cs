namespace CapCluster.Protocol;

/// <summary>
/// What a stream's <see cref="CallContext"/> needs of the stream lane it travels on (see
/// <see cref="CallContext.ForStreamLane"/>).
/// </summary>
/// <param name="ConnectionId">The lane's own id, as the context's connection id.</param>
/// <param name="Ended">Cancelled when the lane closes or the server stops.</param>
/// <param name="IsOpen">Whether the lane is still open.</param>
/// <param name="Abort">Closes the lane (its TLS connection) at once.</param>
public sealed record StreamLaneEnd(string ConnectionId, CancellationToken Ended, Func<bool> IsOpen, Action Abort);

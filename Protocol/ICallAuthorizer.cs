namespace CapCluster.Protocol;

/// <summary>
/// Decides whether a call may run. Called for every call before any handler runs (and before
/// an unknown method is reported), with the client certificate and request headers available.
/// </summary>
public interface ICallAuthorizer
{
    /// <summary>
    /// Returns to allow the call; throws <see cref="RpcException"/> to refuse it, which the
    /// caller receives as a Trailers-Only response with that status and detail. What the
    /// authorizer learned can be stored in <see cref="CallContext.Items"/> for the handler.
    /// </summary>
    /// <param name="context">The call; its <see cref="CallContext.CancellationToken"/> applies.</param>
    ValueTask AuthorizeAsync(CallContext context);
}

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

    /// <summary>
    /// Told after a call it admitted ended refused by its handler for what the caller sent: INVALID_ARGUMENT (a malformed
    /// or out-of-protocol message), or UNKNOWN or INTERNAL (one the server could not process: a message it could not
    /// even parse ends so). The authorizer sees every refusal, not only its own.
    /// </summary>
    /// <param name="context">The call, with what <see cref="AuthorizeAsync"/> stored in its items.</param>
    /// <param name="status">The status the call ended with.</param>
    void CallFailed(CallContext context, Status status)
    {
    }

    /// <summary>
    /// Told when a call it admitted has ended, however it ended (after <see cref="CallFailed"/> when that was told):
    /// what the authorizer holds for calls in progress can be let go.
    /// </summary>
    /// <param name="context">The call, with what <see cref="AuthorizeAsync"/> stored in its items.</param>
    void CallEnded(CallContext context)
    {
    }
}

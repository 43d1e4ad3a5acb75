namespace CapCluster.Protocol;

/// <summary>A running client-streaming call. Dispose cancels it if it has not finished.</summary>
/// <typeparam name="TReq">The request message type.</typeparam>
/// <typeparam name="TResp">The response message type.</typeparam>
public sealed class AsyncClientStreamingCall<TReq, TResp> : IDisposable
{
    private readonly IDisposable _call;

    internal AsyncClientStreamingCall(IClientStreamWriter<TReq> requestStream, Task<TResp> responseAsync, IDisposable call)
    {
        RequestStream = requestStream;
        ResponseAsync = responseAsync;
        _call = call;
    }

    /// <summary>The requests; call <see cref="IClientStreamWriter{T}.CompleteAsync"/> after the last.</summary>
    public IClientStreamWriter<TReq> RequestStream { get; }

    /// <summary>The response, or an <see cref="RpcException"/> with the final status.</summary>
    public Task<TResp> ResponseAsync { get; }

    /// <summary>Ends the call, cancelling it (RST_STREAM) if it has not finished.</summary>
    public void Dispose() => _call.Dispose();
}

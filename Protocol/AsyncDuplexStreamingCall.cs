namespace CapCluster.Protocol;

/// <summary>A running duplex call. Dispose cancels it (RST_STREAM) if it has not finished.</summary>
/// <typeparam name="TReq">The request message type.</typeparam>
/// <typeparam name="TResp">The response message type.</typeparam>
public sealed class AsyncDuplexStreamingCall<TReq, TResp> : IDisposable
{
    private readonly IDisposable _call;

    internal AsyncDuplexStreamingCall(IClientStreamWriter<TReq> requestStream, IAsyncStreamReader<TResp> responseStream, IDisposable call)
    {
        RequestStream = requestStream;
        ResponseStream = responseStream;
        _call = call;
    }

    /// <summary>The requests; call <see cref="IClientStreamWriter{T}.CompleteAsync"/> after the last.</summary>
    public IClientStreamWriter<TReq> RequestStream { get; }

    /// <summary>The responses; the final status is thrown as <see cref="RpcException"/> unless OK.</summary>
    public IAsyncStreamReader<TResp> ResponseStream { get; }

    /// <summary>Ends the call, cancelling it (RST_STREAM) if it has not finished.</summary>
    public void Dispose() => _call.Dispose();
}

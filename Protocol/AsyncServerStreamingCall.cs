namespace CapCluster.Protocol;

/// <summary>A running server-streaming call. Dispose cancels it if it has not finished.</summary>
/// <typeparam name="TResp">The response message type.</typeparam>
public sealed class AsyncServerStreamingCall<TResp> : IDisposable
{
    private readonly IDisposable _call;

    internal AsyncServerStreamingCall(IAsyncStreamReader<TResp> responseStream, IDisposable call)
    {
        ResponseStream = responseStream;
        _call = call;
    }

    /// <summary>The responses; the final status is thrown as <see cref="RpcException"/> unless OK.</summary>
    public IAsyncStreamReader<TResp> ResponseStream { get; }

    /// <summary>Ends the call, cancelling it (RST_STREAM) if it has not finished.</summary>
    public void Dispose() => _call.Dispose();
}

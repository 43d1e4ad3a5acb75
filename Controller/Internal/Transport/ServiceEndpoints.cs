using CapCluster.Controller.Internal.Transport.StreamLanes;
using CapCluster.Protocol;
using Google.Protobuf;

namespace CapCluster.Controller.Internal.Transport;

/// <summary>
/// Where the controller's services register their methods, each once. The transport that carries a call is chosen
/// here and in this folder, not by the service: a unary call and a session are served on HTTP/2; a stream is served
/// on HTTP/2 and on a stream lane granted for it, to the same handler; a MultiEngine call's values ride its session
/// or a data lane (<see cref="ICallValueRoutes"/>).
/// </summary>
internal sealed class ServiceEndpoints(GrpcRouter router, StreamLaneHost streams)
{
    public void Unary<TReq, TResp>(Method<TReq, TResp> method, Func<TReq, CallContext, Task<TResp>> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new() =>
        router.MapUnary(method, handler);

    /// <summary>A bidirectional call served on HTTP/2 alone: its large values, if any, go by <see cref="ICallValueRoutes"/>.</summary>
    public void Duplex<TReq, TResp>(Method<TReq, TResp> method, Func<IAsyncStreamReader<TReq>, IServerStreamWriter<TResp>, CallContext, Task> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new() =>
        router.MapDuplex(method, handler);

    /// <summary>A long-lived stream, served to <paramref name="handler"/> whichever way its caller opens it.</summary>
    public void Stream<TReq, TResp>(StreamMethod<TReq, TResp> stream, Func<IAsyncStreamReader<TReq>, IServerStreamWriter<TResp>, CallContext, Task> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new() =>
        streams.Map(router, stream, handler);
}

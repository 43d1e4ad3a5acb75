using CapCluster.Protocol.Internal;
using Google.Protobuf;

namespace CapCluster.Protocol;

/// <summary>The methods a <see cref="GrpcServer"/> serves, by path. Map everything before starting the server.</summary>
public sealed class GrpcRouter
{
    private readonly Dictionary<string, ServerMethod> _methods = new(StringComparer.Ordinal);

    /// <summary>The paths mapped so far, e.g. <c>/capcluster.v1.MultiEngine/GetIds</c>.</summary>
    public IReadOnlyCollection<string> Paths => _methods.Keys;

    /// <summary>Maps a unary method.</summary>
    public void MapUnary<TReq, TResp>(Method<TReq, TResp> method, Func<TReq, ServerCallContext, Task<TResp>> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new() =>
        Add(method, MethodType.Unary, new UnaryServerMethod<TReq, TResp>(method, handler ?? throw new ArgumentNullException(nameof(handler))));

    /// <summary>Maps a server-streaming method.</summary>
    public void MapServerStreaming<TReq, TResp>(Method<TReq, TResp> method, Func<TReq, IServerStreamWriter<TResp>, ServerCallContext, Task> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new() =>
        Add(method, MethodType.ServerStreaming, new ServerStreamingServerMethod<TReq, TResp>(method, handler ?? throw new ArgumentNullException(nameof(handler))));

    /// <summary>Maps a client-streaming method.</summary>
    public void MapClientStreaming<TReq, TResp>(Method<TReq, TResp> method, Func<IAsyncStreamReader<TReq>, ServerCallContext, Task<TResp>> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new() =>
        Add(method, MethodType.ClientStreaming, new ClientStreamingServerMethod<TReq, TResp>(method, handler ?? throw new ArgumentNullException(nameof(handler))));

    /// <summary>Maps a duplex (bidirectional) streaming method.</summary>
    public void MapDuplex<TReq, TResp>(Method<TReq, TResp> method, Func<IAsyncStreamReader<TReq>, IServerStreamWriter<TResp>, ServerCallContext, Task> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new() =>
        Add(method, MethodType.DuplexStreaming, new DuplexServerMethod<TReq, TResp>(method, handler ?? throw new ArgumentNullException(nameof(handler))));

    internal bool TryGet(string path, out ServerMethod method) => _methods.TryGetValue(path, out method!);

    private void Add<TReq, TResp>(Method<TReq, TResp> method, MethodType expected, ServerMethod serverMethod)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Type != expected)
        {
            throw new ArgumentException($"{method.FullName} is a {method.Type} method, not {expected}.", nameof(method));
        }

        if (!_methods.TryAdd(method.FullName, serverMethod))
        {
            throw new ArgumentException($"{method.FullName} is already mapped.", nameof(method));
        }
    }
}

using CapCluster.Protocol.Internal;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace CapCluster.Protocol;

/// <summary>
/// The methods a <see cref="GrpcServer"/> serves, one registration by method. Map everything before starting the
/// server. Handlers see a <see cref="CallContext"/>: who called and what the <see cref="ICallAuthorizer"/> learned.
/// </summary>
public sealed class GrpcRouter
{
    private readonly Dictionary<string, Action<ServiceMethodProviderContext<RoutedService>, ServerRuntime>> _methods = new(StringComparer.Ordinal);

    private readonly List<ServiceDescriptor> _described = [];

    /// <summary>The paths mapped so far, e.g. <c>/capcluster.v1.MultiEngine/GetIds</c>.</summary>
    public IReadOnlyCollection<string> Paths => _methods.Keys;

    /// <summary>The services described so far, which reflection lists and health reports.</summary>
    public IReadOnlyList<ServiceDescriptor> Described => _described;

    /// <summary>
    /// Names the .proto description of services whose methods are mapped here: reflection then lists them with their
    /// messages, and health reports each as SERVING.
    /// </summary>
    public void Describe(params ServiceDescriptor[] services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _described.AddRange(services);
    }

    /// <summary>Maps a unary method.</summary>
    public void MapUnary<TReq, TResp>(Method<TReq, TResp> method, Func<TReq, CallContext, Task<TResp>> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(method, MethodType.Unary, (provider, runtime) => provider.AddUnaryMethod(method, [], (_, request, context) =>
            RoutedCall.RunAsync(runtime, context, call => handler(request, call))));
    }

    /// <summary>Maps a server-streaming method.</summary>
    public void MapServerStreaming<TReq, TResp>(Method<TReq, TResp> method, Func<TReq, IServerStreamWriter<TResp>, CallContext, Task> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(method, MethodType.ServerStreaming, (provider, runtime) => provider.AddServerStreamingMethod(method, [], (_, request, responses, context) =>
            RoutedCall.RunAsync(runtime, context, call => handler(request, responses, call))));
    }

    /// <summary>Maps a client-streaming method.</summary>
    public void MapClientStreaming<TReq, TResp>(Method<TReq, TResp> method, Func<IAsyncStreamReader<TReq>, CallContext, Task<TResp>> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(method, MethodType.ClientStreaming, (provider, runtime) => provider.AddClientStreamingMethod(method, [], (_, requests, context) =>
            RoutedCall.RunAsync(runtime, context, call => handler(requests, call))));
    }

    /// <summary>Maps a duplex (bidirectional) streaming method.</summary>
    public void MapDuplex<TReq, TResp>(Method<TReq, TResp> method, Func<IAsyncStreamReader<TReq>, IServerStreamWriter<TResp>, CallContext, Task> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(method, MethodType.DuplexStreaming, (provider, runtime) => provider.AddDuplexStreamingMethod(method, [], (_, requests, responses, context) =>
            RoutedCall.RunAsync(runtime, context, call => handler(requests, responses, call))));
    }

    internal void AddTo(ServiceMethodProviderContext<RoutedService> provider, ServerRuntime runtime)
    {
        foreach (var add in _methods.Values)
        {
            add(provider, runtime);
        }
    }

    private void Add<TReq, TResp>(Method<TReq, TResp> method, MethodType expected, Action<ServiceMethodProviderContext<RoutedService>, ServerRuntime> add)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Type != expected)
        {
            throw new ArgumentException($"{method.FullName} is a {method.Type} method, not {expected}.", nameof(method));
        }

        if (!_methods.TryAdd(method.FullName, add))
        {
            throw new ArgumentException($"{method.FullName} is already mapped.", nameof(method));
        }
    }
}

using CapCluster.Protocol.Internal;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace CapCluster.Protocol;

/// <summary>
/// The methods a <see cref="GrpcServer"/> serves, one registration by method: a service's protoc-generated base
/// (<see cref="Bind"/>), or a single handler (<c>Map...</c>). Map everything before starting the server. A handler finds
/// who called, and what the <see cref="ICallAuthorizer"/> learned, with <see cref="CallContext.Of"/>.
/// </summary>
public sealed class GrpcRouter
{
    private readonly Dictionary<string, Route> _routes = new(StringComparer.Ordinal);

    private readonly List<ServiceDescriptor> _described = [];

    /// <summary>The paths mapped so far, e.g. <c>/capcluster.v1.MultiEngine/GetIds</c>.</summary>
    public IReadOnlyCollection<string> Paths => _routes.Keys;

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

    /// <summary>
    /// Serves <paramref name="service"/>, an implementation of a protoc-generated service base, through its generated
    /// <c>BindService(ServiceBinderBase, TBase)</c>. A method mapped here before (one the transport serves for every
    /// service, such as a grant) keeps its handler: the base's UNIMPLEMENTED stub for it is not bound.
    /// </summary>
    /// <param name="bindService">The generated <c>BindService</c>, e.g. <c>TaskFarm.BindService</c>.</param>
    /// <param name="service">The implementation.</param>
    public void Bind<TService>(Action<ServiceBinderBase, TService> bindService, TService service)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(bindService);
        ArgumentNullException.ThrowIfNull(service);
        bindService(new Binder(this), service);
    }

    /// <summary>Maps a unary method.</summary>
    public void MapUnary<TReq, TResp>(Method<TReq, TResp> method, Func<TReq, CallContext, Task<TResp>> handler)
        where TReq : class
        where TResp : class
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(method, new UnaryServerMethod<TReq, TResp>((request, context) => handler(request, CallContext.Of(context))));
    }

    /// <summary>Maps a server-streaming method.</summary>
    public void MapServerStreaming<TReq, TResp>(Method<TReq, TResp> method, Func<TReq, IServerStreamWriter<TResp>, CallContext, Task> handler)
        where TReq : class
        where TResp : class
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(method, new ServerStreamingServerMethod<TReq, TResp>((request, responses, context) => handler(request, responses, CallContext.Of(context))));
    }

    /// <summary>Maps a client-streaming method.</summary>
    public void MapClientStreaming<TReq, TResp>(Method<TReq, TResp> method, Func<IAsyncStreamReader<TReq>, CallContext, Task<TResp>> handler)
        where TReq : class
        where TResp : class
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(method, new ClientStreamingServerMethod<TReq, TResp>((requests, context) => handler(requests, CallContext.Of(context))));
    }

    /// <summary>Maps a duplex (bidirectional) streaming method.</summary>
    public void MapDuplex<TReq, TResp>(Method<TReq, TResp> method, Func<IAsyncStreamReader<TReq>, IServerStreamWriter<TResp>, CallContext, Task> handler)
        where TReq : class
        where TResp : class
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(method, new DuplexStreamingServerMethod<TReq, TResp>((requests, responses, context) => handler(requests, responses, CallContext.Of(context))));
    }

    /// <summary>
    /// Serves a call of the duplex <paramref name="method"/> that arrived other than on HTTP/2 (a stream lane) with the
    /// handler mapped for it, which sees <paramref name="call"/> as it would see the call on HTTP/2.
    /// </summary>
    /// <exception cref="InvalidOperationException">No duplex handler is mapped for <paramref name="method"/>.</exception>
    public Task ServeDuplexAsync<TReq, TResp>(Method<TReq, TResp> method, IAsyncStreamReader<TReq> requests, IServerStreamWriter<TResp> responses, CallContext call)
        where TReq : class
        where TResp : class
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(call);
        if (!_routes.TryGetValue(method.FullName, out var route) || route.Handler is not DuplexStreamingServerMethod<TReq, TResp> handler)
        {
            throw new InvalidOperationException($"{method.FullName} is not mapped as a duplex stream.");
        }

        return handler(requests, responses, new CallServerContext(call));
    }

    internal void AddTo(ServiceMethodProviderContext<RoutedService> provider, ServerRuntime runtime)
    {
        foreach (var route in _routes.Values)
        {
            route.AddTo(provider, runtime);
        }
    }

    private void Add<TReq, TResp>(Method<TReq, TResp> method, Delegate handler)
        where TReq : class
        where TResp : class
    {
        ArgumentNullException.ThrowIfNull(method);
        if (!_routes.TryAdd(method.FullName, new Route(handler, Registration(method, handler))))
        {
            throw new ArgumentException($"{method.FullName} is already mapped.", nameof(method));
        }
    }

    /// <summary>How the route joins grpc-dotnet's model once the server starts, with each call run by <see cref="RoutedCall"/>.</summary>
    private static Action<ServiceMethodProviderContext<RoutedService>, ServerRuntime> Registration<TReq, TResp>(Method<TReq, TResp> method, Delegate handler)
        where TReq : class
        where TResp : class => (handler, method.Type) switch
    {
        (UnaryServerMethod<TReq, TResp> unary, MethodType.Unary) => (provider, runtime) =>
            provider.AddUnaryMethod(method, [], (_, request, context) => RoutedCall.RunAsync(runtime, context, () => unary(request, context))),
        (ServerStreamingServerMethod<TReq, TResp> serverStreaming, MethodType.ServerStreaming) => (provider, runtime) =>
            provider.AddServerStreamingMethod(method, [], (_, request, responses, context) =>
                RoutedCall.RunAsync(runtime, context, () => serverStreaming(request, responses, context))),
        (ClientStreamingServerMethod<TReq, TResp> clientStreaming, MethodType.ClientStreaming) => (provider, runtime) =>
            provider.AddClientStreamingMethod(method, [], (_, requests, context) => RoutedCall.RunAsync(runtime, context, () => clientStreaming(requests, context))),
        (DuplexStreamingServerMethod<TReq, TResp> duplex, MethodType.DuplexStreaming) => (provider, runtime) =>
            provider.AddDuplexStreamingMethod(method, [], (_, requests, responses, context) =>
                RoutedCall.RunAsync(runtime, context, () => duplex(requests, responses, context))),
        _ => throw new ArgumentException($"{method.FullName} is a {method.Type} method; its handler is a {handler.GetType().Name}.", nameof(method)),
    };

    private sealed record Route(Delegate Handler, Action<ServiceMethodProviderContext<RoutedService>, ServerRuntime> AddTo);

    /// <summary>What a generated <c>BindService</c> calls, once per method of its service.</summary>
    private sealed class Binder(GrpcRouter router) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            AddUnlessMapped(method, handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            AddUnlessMapped(method, handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            AddUnlessMapped(method, handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            AddUnlessMapped(method, handler);

        private void AddUnlessMapped<TRequest, TResponse>(Method<TRequest, TResponse> method, Delegate? handler)
            where TRequest : class
            where TResponse : class
        {
            if (handler is not null && !router._routes.ContainsKey(method.FullName))
            {
                router.Add(method, handler);
            }
        }
    }
}

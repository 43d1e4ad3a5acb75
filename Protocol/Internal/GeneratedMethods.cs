using Grpc.Core;

namespace CapCluster.Protocol.Internal;

/// <summary>
/// The method descriptors protoc generated for a service (with their generated marshallers), read through the
/// service's generated <c>BindService(ServiceBinderBase, TBase)</c> called without an implementation.
/// </summary>
internal sealed class GeneratedMethods : ServiceBinderBase
{
    private readonly Dictionary<string, IMethod> _methods = new(StringComparer.Ordinal);

    private GeneratedMethods()
    {
    }

    public static GeneratedMethods Of<TService>(Action<ServiceBinderBase, TService?> bindService)
        where TService : class
    {
        var methods = new GeneratedMethods();
        bindService(methods, null);
        return methods;
    }

    /// <exception cref="InvalidOperationException">The service has no method <paramref name="name"/> with these message types.</exception>
    public Method<TRequest, TResponse> Get<TRequest, TResponse>(string name)
        where TRequest : class
        where TResponse : class =>
        _methods.TryGetValue(name, out var method) && method is Method<TRequest, TResponse> typed
            ? typed
            : throw new InvalidOperationException($"the generated service has no method {name}({typeof(TRequest).Name}) returns ({typeof(TResponse).Name})");

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
        _methods.Add(method.Name, method);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
        _methods.Add(method.Name, method);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
        _methods.Add(method.Name, method);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
        _methods.Add(method.Name, method);
}

using Google.Protobuf;

namespace CapCluster.Protocol;

/// <summary>Describes one gRPC method: its shape, service, name and message types.</summary>
/// <typeparam name="TRequest">The request message type.</typeparam>
/// <typeparam name="TResponse">The response message type.</typeparam>
public sealed class Method<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    /// <summary>Creates a method description.</summary>
    /// <param name="type">The shape of the method.</param>
    /// <param name="serviceName">The fully qualified service name, e.g. <c>capcluster.v1.MultiEngine</c>.</param>
    /// <param name="name">The method name, e.g. <c>GetIds</c>.</param>
    public Method(MethodType type, string serviceName, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        Type = type;
        ServiceName = serviceName;
        Name = name;
        FullName = "/" + serviceName + "/" + name;
    }

    /// <summary>The shape of the method.</summary>
    public MethodType Type { get; }

    /// <summary>The fully qualified service name, e.g. <c>capcluster.v1.MultiEngine</c>.</summary>
    public string ServiceName { get; }

    /// <summary>The method name, e.g. <c>GetIds</c>.</summary>
    public string Name { get; }

    /// <summary>The HTTP/2 path of the method, e.g. <c>/capcluster.v1.MultiEngine/GetIds</c>.</summary>
    public string FullName { get; }

    internal MessageParser<TRequest> RequestParser { get; } = new(() => new TRequest());

    internal MessageParser<TResponse> ResponseParser { get; } = new(() => new TResponse());

    /// <inheritdoc />
    public override string ToString() => FullName;
}

namespace CapCluster.Protocol;

/// <summary>A <see cref="GrpcServer"/> could not listen on one of its endpoints.</summary>
public sealed class GrpcBindException : Exception
{
    /// <summary>Creates the exception with a message built from the endpoint and the reason.</summary>
    /// <param name="endpoint">The endpoint that could not be bound.</param>
    /// <param name="reason">Why, e.g. "the port is already in use".</param>
    /// <param name="advice">What the user can do, e.g. "pick another --engine-port, or stop what holds it".</param>
    /// <param name="innerException">The underlying error.</param>
    public GrpcBindException(GrpcEndpoint endpoint, string reason, string advice, Exception? innerException)
        : base(FormatMessage(endpoint, reason, advice), innerException)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Endpoint = endpoint;
    }

    /// <summary>The endpoint that could not be bound.</summary>
    public GrpcEndpoint Endpoint { get; }

    /// <summary>The exception for a failure to bind <paramref name="endpoint"/>, with the reason and advice read from <paramref name="error"/>.</summary>
    public static GrpcBindException For(GrpcEndpoint endpoint, Exception error) => Internal.BindErrors.Create([endpoint], error);

    /// <summary>The endpoint's name, e.g. <c>engine</c>.</summary>
    public string EndpointName => Endpoint.Name;

    /// <summary>The address that could not be bound.</summary>
    public System.Net.IPAddress Address => Endpoint.Address;

    /// <summary>The port that could not be bound.</summary>
    public int Port => Endpoint.Port;

    private static string FormatMessage(GrpcEndpoint endpoint, string reason, string advice) =>
        $"cannot listen on {new System.Net.IPEndPoint(endpoint.Address, endpoint.Port)} for the {endpoint.Name} port: {reason} ({advice})";
}

namespace CapCluster.Protocol;

/// <summary>
/// The standard gRPC services every <see cref="GrpcServer"/> also serves, behind the same authorizer: server
/// reflection (v1 and v1alpha: the services and messages of <see cref="GrpcRouter.Describe"/>) and health
/// (SERVING for the server as a whole, <c>""</c>, and for each described service, until the server stops).
/// </summary>
public static class StandardServices
{
    /// <summary>The health service, <c>grpc.health.v1.Health</c>.</summary>
    public const string Health = "grpc.health.v1.Health";

    /// <summary>Server reflection, <c>grpc.reflection.v1.ServerReflection</c>.</summary>
    public const string Reflection = "grpc.reflection.v1.ServerReflection";

    /// <summary>Server reflection as older tools ask for it, <c>grpc.reflection.v1alpha.ServerReflection</c>.</summary>
    public const string ReflectionV1Alpha = "grpc.reflection.v1alpha.ServerReflection";

    /// <summary>Whether <paramref name="serviceName"/> is one of the standard services.</summary>
    public static bool IsStandard(string serviceName) => serviceName is Health or Reflection or ReflectionV1Alpha;
}

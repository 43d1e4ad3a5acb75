namespace CapCluster.Security;

/// <summary>
/// The interfaces a capability can grant, and the gRPC service each one guards.
/// </summary>
public static class CapabilityInterfaces
{
    /// <summary>Lets a process join the cluster as an engine (service <c>capcluster.v1.EngineLink</c>).</summary>
    public const string Engine = "engine";

    /// <summary>Lets a client drive chosen engines (service <c>capcluster.v1.MultiEngine</c>).</summary>
    public const string MultiEngine = "multiengine";

    /// <summary>Lets a client submit load-balanced tasks (service <c>capcluster.v1.TaskFarm</c>).</summary>
    public const string Task = "task";

    private static readonly string[] AllInterfaces = [Engine, MultiEngine, Task];

    /// <summary>All interfaces, in the order engine, multiengine, task.</summary>
    public static IReadOnlyList<string> All => AllInterfaces;

    /// <summary>The fully qualified gRPC service name that <paramref name="iface"/> guards.</summary>
    /// <exception cref="ArgumentException"><paramref name="iface"/> is not one of <see cref="All"/>.</exception>
    public static string ServiceName(string iface) => iface switch
    {
        Engine => "capcluster.v1.EngineLink",
        MultiEngine => "capcluster.v1.MultiEngine",
        Task => "capcluster.v1.TaskFarm",
        _ => throw new ArgumentException(
            $"unknown capability interface '{iface}' (expected {string.Join(", ", AllInterfaces)})", nameof(iface)),
    };

    /// <summary>The interface guarding <paramref name="serviceName"/>, or <c>null</c> if no interface does.</summary>
    public static string? InterfaceForService(string serviceName) => serviceName switch
    {
        "capcluster.v1.EngineLink" => Engine,
        "capcluster.v1.MultiEngine" => MultiEngine,
        "capcluster.v1.TaskFarm" => Task,
        _ => null,
    };

    /// <summary>One line saying what a capability for <paramref name="iface"/> grants (used in file headers).</summary>
    /// <exception cref="ArgumentException"><paramref name="iface"/> is unknown.</exception>
    public static string Describe(string iface) => iface switch
    {
        Engine => "lets a process join this cluster as an engine and run the work it is sent",
        MultiEngine => "lets a client run code on, push values to and pull values from chosen engines",
        Task => "lets a client submit load-balanced tasks and fetch their results",
        _ => throw new ArgumentException($"unknown capability interface '{iface}'", nameof(iface)),
    };

    internal static bool IsKnown(string iface) => Array.IndexOf(AllInterfaces, iface) >= 0;
}

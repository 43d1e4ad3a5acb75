namespace CapCluster.Security;

/// <summary>
/// The method names a capability's allow-list (<see cref="CapabilityRecord.AllowedMethods"/>) may hold, per interface,
/// and how the gate matches a call against that list. MultiEngine operations (Execute, Push, Pull, ...) travel inside
/// the <c>Session</c> stream, so their names are allowed too: the gate admits <c>Session</c> when any of them is, and the
/// session checks each operation.
/// </summary>
public static class CapabilityMethods
{
    /// <summary>The unary call every live capability may make, whatever its allow-list: it answers what the capability is.</summary>
    public const string Check = "Check";

    /// <summary>The MultiEngine call that grants a data lane for bulk pushes and pulls.</summary>
    public const string OpenLane = "OpenLane";

    /// <summary>
    /// The call that grants a stream lane for its service's long-lived stream (Task <c>Tasks</c>, Engine <c>Connect</c>).
    /// It is not a name an allow-list holds: it is allowed exactly when that stream is.
    /// </summary>
    public const string OpenStream = "OpenStream";

    /// <summary>The MultiEngine stream that carries the session operations.</summary>
    public const string Session = "Session";

    private static readonly string[] EngineMethods = ["Connect"];
    private static readonly string[] MultiEngineCalls = ["GetIds", "ListEngines", "Ping", "Kill", Session, "EngineQueues", "ClearQueue", "QueueStatus", OpenLane];
    private static readonly string[] TaskMethods = ["QueueStatus", "Tasks", "GetResults", "Abort", "Clear"];

    /// <summary>The operations a MultiEngine session carries, checked one call at a time.</summary>
    public static IReadOnlyList<string> SessionOperations { get; } = ["Execute", "Push", "Pull", "Keys", "Reset", "Apply", "GetResult", "Properties", "Tasks"];

    /// <summary>Every name an allow-list for <paramref name="iface"/> may hold.</summary>
    /// <exception cref="ArgumentException"><paramref name="iface"/> is unknown.</exception>
    public static IReadOnlyList<string> For(string iface) => iface switch
    {
        CapabilityInterfaces.Engine => EngineMethods,
        CapabilityInterfaces.MultiEngine => [.. MultiEngineCalls, .. SessionOperations],
        CapabilityInterfaces.Task => TaskMethods,
        _ => throw new ArgumentException($"unknown capability interface '{iface}'", nameof(iface)),
    };

    /// <summary>
    /// Whether <paramref name="allowed"/> admits <paramref name="method"/> of <paramref name="iface"/>: listed by name;
    /// <c>Session</c> when any session operation is listed; MultiEngine <c>EngineQueues</c> when <c>QueueStatus</c> is;
    /// <c>OpenLane</c> when <c>Push</c> or <c>Pull</c> is; <c>OpenStream</c> when the stream it opens
    /// (Task <c>Tasks</c>, Engine <c>Connect</c>) is.
    /// </summary>
    public static bool Allows(string iface, IReadOnlyList<string> allowed, string method)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        if (method == OpenStream)
            return iface switch
            {
                CapabilityInterfaces.Task => allowed.Contains("Tasks", StringComparer.Ordinal),
                CapabilityInterfaces.Engine => allowed.Contains("Connect", StringComparer.Ordinal),
                _ => false,
            };
        if (allowed.Contains(method, StringComparer.Ordinal))
            return true;
        if (iface != CapabilityInterfaces.MultiEngine)
            return false;
        return method switch
        {
            Session => allowed.Any(a => SessionOperations.Contains(a, StringComparer.Ordinal)),
            "EngineQueues" => allowed.Contains("QueueStatus", StringComparer.Ordinal),
            OpenLane => allowed.Contains("Push", StringComparer.Ordinal) || allowed.Contains("Pull", StringComparer.Ordinal),
            _ => false,
        };
    }
}

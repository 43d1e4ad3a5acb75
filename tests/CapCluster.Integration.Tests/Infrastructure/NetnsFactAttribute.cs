namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>
/// A fact that needs Linux network namespaces: skipped, saying why, where <c>ip netns add</c> fails
/// (not root, no CAP_SYS_ADMIN or CAP_NET_ADMIN, no iproute2, a sandbox that forbids namespaces).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute()
    {
        if (NetnsHosts.UnavailableReason is { } reason)
        {
            Skip = reason;
        }
    }
}

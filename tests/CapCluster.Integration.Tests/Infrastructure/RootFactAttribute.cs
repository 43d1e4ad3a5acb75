namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>A fact that needs root (it mounts a tmpfs, say): skipped, saying why, otherwise.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            Skip = "needs root on Linux (it mounts a disk)";
        }
    }
}

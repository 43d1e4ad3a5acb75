namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>One "host" made by <see cref="NetnsHosts"/>: a network namespace and its address on the shared link.</summary>
/// <param name="Name">The short name the test gave it ("a", "b", ...).</param>
/// <param name="Namespace">The network namespace, unique to this run: <c>cc-&lt;run&gt;-&lt;name&gt;</c>.</param>
/// <param name="Address">Its IPv4 address, 10.77.0.x (reachable from the other hosts of the run only).</param>
internal sealed record NetnsHost(string Name, string Namespace, string Address)
{
    public override string ToString() => $"{Namespace} ({Address})";
}

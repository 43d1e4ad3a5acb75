using System.Net;

namespace CapCluster.Protocol.Tests;

public sealed class ConnectionBudgetTests
{
    private static readonly IPAddress A = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress B = IPAddress.Parse("10.0.0.2");

    [Fact]
    public void AdmitsWithinBothLimits_RefusesBeyondEither_NamingTheLimitAndItsOption_AndReleasesFreeSlots()
    {
        var budget = new ConnectionBudget("connections on the client port", maxPerAddress: 2, maxTotal: 3, "--per-address", "--total");

        Assert.Null(budget.TryTake(A));
        Assert.Null(budget.TryTake(A));
        Assert.Equal("2 connections on the client port from 10.0.0.1 are open, the most allowed from one address (--per-address)", budget.TryTake(A));
        Assert.Null(budget.TryTake(B));
        Assert.Equal("3 connections on the client port are open, the most allowed (--total)", budget.TryTake(B));
        Assert.Equal(3, budget.Count);

        budget.Release(A);
        Assert.Null(budget.TryTake(B));
        budget.Release(B);
        budget.Release(B);
        Assert.Equal(1, budget.Count);
    }

    [Fact]
    public void AnIpv4MappedAddress_CountsAsItsIpv4Address()
    {
        var budget = new ConnectionBudget("connections", maxPerAddress: 1, maxTotal: 10, "--a", "--b");

        Assert.Null(budget.TryTake(A));
        Assert.NotNull(budget.TryTake(A.MapToIPv6()));
        budget.Release(A.MapToIPv6());
        Assert.Null(budget.TryTake(A));
    }
}

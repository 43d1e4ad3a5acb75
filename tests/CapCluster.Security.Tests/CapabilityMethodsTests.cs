using CapCluster.Security.Tests.Infrastructure;

namespace CapCluster.Security.Tests;

public sealed class CapabilityMethodsTests : IDisposable
{
    private static readonly CapabilityLocation[] Here = [new("localhost", 5000)];
    private static readonly string[] ReadOnly = ["GetIds", "Pull", "Keys", "QueueStatus"];
    private readonly TempFolder _folder = new();
    private readonly ManualTime _time = new();
    private readonly CertificateAuthority _ca;
    private readonly CapabilityRegistry _registry;

    public CapabilityMethodsTests()
    {
        _ca = CertificateAuthority.CreateEphemeral(time: _time);
        _registry = CapabilityRegistry.LoadOrCreate(_folder.Path, _time);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _folder.Dispose();
    }

    [Theory]
    [InlineData("GetIds", true)]
    [InlineData("Session", true)]
    [InlineData("EngineQueues", true)]
    [InlineData("Pull", true)]
    [InlineData("Execute", false)]
    [InlineData("Push", false)]
    [InlineData("Kill", false)]
    [InlineData("ClearQueue", false)]
    public void ReadOnlyMultiEngineList_AdmitsSessionAndQueues_ButNotWrites(string method, bool allowed) =>
        Assert.Equal(allowed, CapabilityMethods.Allows(CapabilityInterfaces.MultiEngine, ReadOnly, method));

    [Fact]
    public void Session_IsRefused_WhenNoSessionOperationIsAllowed() =>
        Assert.False(CapabilityMethods.Allows(CapabilityInterfaces.MultiEngine, ["GetIds"], "Session"));

    [Fact]
    public void Aliases_ApplyOnlyToMultiEngine() =>
        Assert.False(CapabilityMethods.Allows(CapabilityInterfaces.Task, ["QueueStatus"], "EngineQueues"));

    [Fact]
    public void Check_WithoutAMethod_AdmitsARestrictedLiveCapability_ButNotARevokedOne()
    {
        var cap = _registry.Issue(_ca, CapabilityInterfaces.MultiEngine, Here, "reader", allowedMethods: ReadOnly);

        Assert.True(_registry.Check(cap.Record.Id, CapabilityInterfaces.MultiEngine, null, cap.File.Url.Secret).Allowed);
        var kill = _registry.Check(cap.Record.Id, CapabilityInterfaces.MultiEngine, "Kill", cap.File.Url.Secret);
        Assert.Equal(CapabilityRefusal.MethodNotAllowed, kill.Refusal);

        _registry.Revoke(cap.Record.Id);
        Assert.Equal(CapabilityRefusal.Revoked, _registry.Check(cap.Record.Id, CapabilityInterfaces.MultiEngine, null, cap.File.Url.Secret).Refusal);
    }

    [Fact]
    public void For_ListsSessionOperationsForMultiEngineOnly()
    {
        Assert.Contains("Execute", CapabilityMethods.For(CapabilityInterfaces.MultiEngine));
        Assert.DoesNotContain("Execute", CapabilityMethods.For(CapabilityInterfaces.Task));
        Assert.Throws<ArgumentException>(() => CapabilityMethods.For("admin"));
    }
}

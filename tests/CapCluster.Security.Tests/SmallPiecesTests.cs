using CapCluster.Security.Tests.Infrastructure;

namespace CapCluster.Security.Tests;

public sealed class SmallPiecesTests
{
    [Fact]
    public void CapabilityInterfaces_ServiceNamesMapBothWays()
    {
        foreach (var iface in CapabilityInterfaces.All)
            Assert.Equal(iface, CapabilityInterfaces.InterfaceForService(CapabilityInterfaces.ServiceName(iface)));
        Assert.Equal("capcluster.v1.TaskFarm", CapabilityInterfaces.ServiceName("task"));
        Assert.Throws<ArgumentException>(() => CapabilityInterfaces.ServiceName("admin"));
        Assert.Null(CapabilityInterfaces.InterfaceForService("grpc.health.v1.Health"));
    }

    [Fact]
    public void CapabilitySecret_CreateIsFreshBase32AndHashMatchesOnlyItself()
    {
        var secret = CapabilitySecret.Create();
        Assert.Matches("^[a-z2-7]{52}$", secret);
        Assert.NotEqual(secret, CapabilitySecret.Create());
        var hash = CapabilitySecret.Hash(secret);
        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.True(CapabilitySecret.Matches(secret, hash));
        Assert.False(CapabilitySecret.Matches(secret[..^1] + (secret[^1] == 'a' ? 'b' : 'a'), hash));
    }

    [Fact]
    public void CapabilitySecret_Hash_IsSha256OfUtf8()
    {
        // SHA-256("abc"), FIPS 180-2 test vector.
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", CapabilitySecret.Hash("abc"));
    }

    [Fact]
    public void HolderCertificateExtension_RoundTripsAndRejectsGarbage()
    {
        var extension = HolderCertificateExtension.Create("cap_x1", CapabilityInterfaces.Task);
        Assert.False(extension.Critical);
        Assert.Equal(HolderCertificateExtension.Oid, extension.Oid?.Value);
        Assert.Throws<ArgumentException>(() => HolderCertificateExtension.Create("cap x", CapabilityInterfaces.Task));
        Assert.Throws<ArgumentException>(() => HolderCertificateExtension.Create("cap_x", "admin"));

        using var ca = CertificateAuthority.CreateEphemeral();
        using var server = ca.IssueServerCertificate([], TimeSpan.FromDays(1));
        Assert.Null(HolderCertificateExtension.Read(server));
    }

    [Fact]
    public void ClusterPaths_DefaultsProfileAndOverrides()
    {
        var home = Path.Combine(Path.GetTempPath(), "home-u");
        var plain = ClusterPaths.Resolve(null, null, null, null, home);
        Assert.Equal(Path.Combine(home, ".capcluster", "security"), plain.SecurityFolder);
        Assert.Equal(Path.Combine(home, ".capcluster", "log"), plain.LogFolder);
        Assert.Equal(Path.Combine(home, ".capcluster", "security", "task.cap"), plain.CapFile("task"));
        Assert.Equal(Path.Combine(home, ".capcluster", "log", "audit.jsonl"), plain.AuditLogFile);

        var dir = Path.Combine(Path.GetTempPath(), "cc-dir");
        var profiled = ClusterPaths.Resolve("gpu", null, null, dir, home);
        Assert.Equal(Path.Combine(dir, "profile_gpu"), profiled.BaseFolder);
        Assert.Equal(Path.Combine(dir, "profile_gpu", "security"), profiled.SecurityFolder);

        var explicitFolders = ClusterPaths.Resolve(null, "/srv/sec", "/srv/log", dir, home);
        Assert.Equal("/srv/sec", explicitFolders.SecurityFolder);
        Assert.Equal("/srv/log", explicitFolders.LogFolder);

        Assert.Throws<ArgumentException>(() => ClusterPaths.Resolve("../x", null, null, dir, home));
        Assert.Throws<ArgumentException>(() => plain.CapFile("admin"));
    }

    [Fact]
    public void ClusterPaths_EnsureCreated_MakesOwnerOnlyFolders()
    {
        using var folder = new TempFolder();
        var paths = ClusterPaths.Resolve("p", null, null, folder.Path, "/nonexistent");
        paths.EnsureCreated();
        paths.EnsureCreated();

        Assert.Equal(FileModes.OwnerAll, FileModes.Of(paths.SecurityFolder, FileModes.OwnerAll));
        Assert.Equal(FileModes.OwnerAll, FileModes.Of(paths.LogFolder, FileModes.OwnerAll));
    }

    [Fact]
    public void CapabilityFileException_MessageNamesPathProblemAndHint()
    {
        var error = new CapabilityFileException("/x/task.cap", "no such file");
        Assert.StartsWith("/x/task.cap: no such file", error.Message);
        Assert.Contains("copy the file again from the controller's security folder", error.Message);
        Assert.IsAssignableFrom<CapClusterException>(error);
    }
}

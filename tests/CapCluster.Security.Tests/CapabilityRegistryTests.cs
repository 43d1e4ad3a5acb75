using CapCluster.Security.Tests.Infrastructure;

namespace CapCluster.Security.Tests;

public sealed class CapabilityRegistryTests : IDisposable
{
    private static readonly CapabilityLocation[] Here = [new("localhost", 5000)];
    private readonly TempFolder _folder = new();
    private readonly ManualTime _time = new();
    private readonly CertificateAuthority _ca;
    private readonly CapabilityRegistry _registry;

    public CapabilityRegistryTests()
    {
        _ca = CertificateAuthority.CreateEphemeral(time: _time);
        _registry = CapabilityRegistry.LoadOrCreate(_folder.Path, _time);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _folder.Dispose();
    }

    private string RegistryPath => _folder.File("registry.json");

    private IssuedCapability Issue(string iface = CapabilityInterfaces.Task, string? label = null, DateTimeOffset? expires = null,
        IReadOnlyList<string>? methods = null, string? parentId = null, long? maxTasks = null, bool ownEngines = false, string? serves = null) =>
        _registry.Issue(_ca, iface, Here, label, expires, methods, maxTasks, parentId, ownEngines, serves);

    private CapabilityDecision Check(IssuedCapability cap, string? iface = null, string method = "Submit", string? secret = null) =>
        _registry.Check(cap.Record.Id, iface ?? cap.Record.Interface, method, secret ?? cap.File.Url.Secret);

    [Fact]
    public void Issue_ReturnsUsableFileAndRecord()
    {
        var issued = Issue(label: "alice");

        Assert.Matches("^cap_[a-z2-7]{16}$", issued.Record.Id);
        Assert.Equal(issued.Record.Id, issued.File.CapabilityId);
        Assert.Equal("alice", issued.Record.Label);
        Assert.Equal(_time.GetUtcNow(), issued.Record.Created);
        Assert.Equal(CapabilitySecret.Hash(issued.File.Url.Secret), issued.Record.SecretHash);
        Assert.Equal(issued.File.HolderCertificate.SerialNumber, issued.Record.CertificateSerial);
        Assert.Equal(_ca.Fingerprint, issued.File.Url.CaFingerprint);
        Assert.Equal(Here, issued.File.Url.Locations);
        Assert.True(_ca.ValidateClientCertificate(issued.File.HolderCertificate).IsValid);
        Assert.Same(issued.Record, _registry.Find(issued.Record.Id));
        Assert.True(Check(issued).Allowed);
    }

    [Fact]
    public void Issue_WithExpiry_HolderCertificateEndsThen()
    {
        var expires = _time.GetUtcNow().AddDays(3);
        var issued = Issue(expires: expires);
        Assert.Equal(expires, new DateTimeOffset(issued.File.HolderCertificate.NotAfter.ToUniversalTime()));
    }

    [Fact]
    public void RegistryFile_IsOwnerOnlyAndNeverHoldsTheSecret()
    {
        var issued = Issue();
        var json = File.ReadAllText(RegistryPath);

        Assert.Equal(FileModes.OwnerReadWrite, FileModes.Of(RegistryPath, FileModes.OwnerReadWrite));
        Assert.DoesNotContain(issued.File.Url.Secret, json);
        Assert.Contains(issued.Record.SecretHash, json);
        Assert.Contains("\"secretHash\"", json);
    }

    [Fact]
    public void LoadOrCreate_AfterRestart_KnowsEveryCapability()
    {
        var a = Issue(label: "a", methods: ["Submit"], maxTasks: 10);
        var b = Issue(CapabilityInterfaces.Engine);
        _registry.Revoke(b.Record.Id);

        var reopened = CapabilityRegistry.LoadOrCreate(_folder.Path, _time);

        Assert.Equal(2, reopened.All.Count);
        var ra = reopened.Find(a.Record.Id)!;
        Assert.Equal(["Submit"], ra.AllowedMethods);
        Assert.Equal(10, ra.MaxTasks);
        Assert.Equal("a", ra.Label);
        Assert.True(reopened.Check(a.Record.Id, "task", "Submit", a.File.Url.Secret).Allowed);
        Assert.Equal(CapabilityRefusal.Revoked, reopened.Check(b.Record.Id, "engine", "Register", b.File.Url.Secret).Refusal);
    }

    [Fact]
    public void Check_UnknownId_IsRefused()
    {
        var decision = _registry.Check("cap_nosuchthing123", "task", "Submit", CapabilitySecret.Create());
        Assert.Equal(CapabilityRefusal.Unknown, decision.Refusal);
        Assert.Equal("no capability cap_nosuchthing123 is registered with this controller", decision.Reason);
        Assert.Null(decision.Record);
        Assert.False(decision.Allowed);
    }

    [Fact]
    public void Check_Revoked_IsRefusedWithTime()
    {
        var issued = Issue();
        _time.Advance(TimeSpan.FromMinutes(30));
        Assert.True(_registry.Revoke(issued.Record.Id));

        var decision = Check(issued);

        Assert.Equal(CapabilityRefusal.Revoked, decision.Refusal);
        Assert.Equal($"capability {issued.Record.Id} was revoked at 2026-03-01T12:30:00Z", decision.Reason);
    }

    [Fact]
    public void Check_WithoutTheSecret_LearnsNothingOfTheCapabilitysState()
    {
        var revoked = Issue();
        Assert.True(_registry.Revoke(revoked.Record.Id));
        var expired = Issue(expires: _time.GetUtcNow().AddMinutes(1));
        _time.Advance(TimeSpan.FromMinutes(2));
        var other = Issue(iface: CapabilityInterfaces.Engine);

        foreach (var stolen in new[] { revoked, expired, other })
        {
            var wrong = _registry.Check(stolen.Record.Id, CapabilityInterfaces.Task, "Submit", CapabilitySecret.Create());
            var none = _registry.Check(stolen.Record.Id, CapabilityInterfaces.Task, "Submit", null);

            Assert.Equal((CapabilityRefusal.SecretMismatch, CapabilityRefusal.SecretMismatch), (wrong.Refusal, none.Refusal));
            Assert.DoesNotContain("revoked", wrong.Reason);
            Assert.DoesNotContain("expired", wrong.Reason);
        }
    }

    [Fact]
    public void Check_Expired_IsRefusedWithTime()
    {
        var issued = Issue(expires: _time.GetUtcNow().AddHours(1));
        Assert.True(Check(issued).Allowed);

        _time.Advance(TimeSpan.FromHours(1));
        var decision = Check(issued);

        Assert.Equal(CapabilityRefusal.Expired, decision.Refusal);
        Assert.Equal($"capability {issued.Record.Id} expired at 2026-03-01T13:00:00Z", decision.Reason);
    }

    [Fact]
    public void Check_WrongInterface_SaysWhatIsNeeded()
    {
        var issued = Issue(CapabilityInterfaces.Task);

        var decision = Check(issued, iface: CapabilityInterfaces.MultiEngine);

        Assert.Equal(CapabilityRefusal.WrongInterface, decision.Refusal);
        Assert.Equal("this is a task capability; capcluster.v1.MultiEngine needs a multiengine capability", decision.Reason);
    }

    [Fact]
    public void Check_MethodNotInList_IsRefused()
    {
        var issued = Issue(methods: ["Submit", "GetResult"]);

        Assert.True(Check(issued, method: "GetResult").Allowed);
        var decision = Check(issued, method: "Abort");

        Assert.Equal(CapabilityRefusal.MethodNotAllowed, decision.Refusal);
        Assert.Equal($"capability {issued.Record.Id} does not allow method Abort", decision.Reason);
    }

    [Fact]
    public void Check_WrongOrMissingSecret_IsRefusedWithoutEchoingIt()
    {
        var issued = Issue();
        var wrong = CapabilitySecret.Create();

        var mismatch = Check(issued, secret: wrong);
        var missing = _registry.Check(issued.Record.Id, "task", "Submit", null);

        Assert.Equal(CapabilityRefusal.SecretMismatch, mismatch.Refusal);
        Assert.Equal("the capability secret does not match", mismatch.Reason);
        Assert.DoesNotContain(wrong, mismatch.Reason);
        Assert.DoesNotContain(issued.File.Url.Secret, mismatch.Reason);
        Assert.Equal(CapabilityRefusal.SecretMismatch, missing.Refusal);
    }

    [Fact]
    public void Check_ReasonsNeverContainTheSecret()
    {
        var issued = Issue(expires: _time.GetUtcNow().AddHours(1), methods: ["Submit"]);
        var secret = issued.File.Url.Secret;
        var reasons = new List<string?>
        {
            Check(issued, iface: "engine").Reason,
            Check(issued, method: "Other").Reason,
        };
        _time.Advance(TimeSpan.FromHours(2));
        reasons.Add(Check(issued).Reason);
        _registry.Revoke(issued.Record.Id);
        reasons.Add(Check(issued).Reason);

        Assert.All(reasons, r => Assert.False(string.IsNullOrEmpty(r)));
        Assert.All(reasons, r => Assert.DoesNotContain(secret, r));
    }

    [Fact]
    public void Revoke_AlsoRevokesDescendantsButNotSiblings()
    {
        var root = Issue();
        var child = Issue(parentId: root.Record.Id);
        var grandchild = Issue(parentId: child.Record.Id);
        var sibling = Issue();

        Assert.True(_registry.Revoke(child.Record.Id));

        Assert.True(Check(root).Allowed);
        Assert.Equal(CapabilityRefusal.Revoked, Check(child).Refusal);
        Assert.Equal(CapabilityRefusal.Revoked, Check(grandchild).Refusal);
        Assert.True(Check(sibling).Allowed);
        Assert.False(_registry.Revoke("cap_unknownunknown1"));
    }

    [Fact]
    public void Issue_Derived_InheritsAndCannotWidenParentLimits()
    {
        var parentExpiry = _time.GetUtcNow().AddDays(1);
        var parent = Issue(expires: parentExpiry, methods: ["Submit", "GetResult"], maxTasks: 100);

        var child = Issue(parentId: parent.Record.Id, label: "bob");
        Assert.Equal(parentExpiry, child.Record.Expires);
        Assert.Equal(["Submit", "GetResult"], child.Record.AllowedMethods);
        Assert.Equal(100, child.Record.MaxTasks);
        Assert.Equal(parent.Record.Id, child.Record.ParentId);

        Assert.Throws<ArgumentException>(() => Issue(parentId: parent.Record.Id, expires: parentExpiry.AddDays(1)));
        Assert.Throws<ArgumentException>(() => Issue(parentId: parent.Record.Id, methods: ["Abort"]));
        Assert.Throws<ArgumentException>(() => Issue(parentId: parent.Record.Id, maxTasks: 101));
        Assert.Throws<ArgumentException>(() => Issue(CapabilityInterfaces.Engine, parentId: parent.Record.Id));
        Assert.Throws<ArgumentException>(() => Issue(parentId: "cap_unknownunknown1"));
    }

    [Fact]
    public void OwnEnginesAndServing_AreInheritedAndNeverWidened_AndSurviveAReload()
    {
        var tasks = Issue();
        var alice = Issue(parentId: tasks.Record.Id, ownEngines: true);
        var bob = Issue(parentId: alice.Record.Id);
        Assert.True(bob.Record.OwnEngines);

        var engines = Issue(CapabilityInterfaces.Engine);
        var alices = Issue(CapabilityInterfaces.Engine, parentId: engines.Record.Id, serves: alice.Record.Id);
        Assert.Equal(alice.Record.Id, alices.Record.Serves);
        Assert.Equal(alice.Record.Id, Issue(CapabilityInterfaces.Engine, parentId: alices.Record.Id).Record.Serves);
        Assert.Equal(bob.Record.Id, Issue(CapabilityInterfaces.Engine, parentId: alices.Record.Id, serves: bob.Record.Id).Record.Serves);

        // An engine capability that serves Alice cannot make engines that serve her parent, nor anyone else.
        var wider = Assert.Throws<ArgumentException>(() => Issue(CapabilityInterfaces.Engine, parentId: alices.Record.Id, serves: tasks.Record.Id));
        Assert.StartsWith($"capability {alices.Record.Id}'s engines serve only the tasks of {alice.Record.Id}", wider.Message, StringComparison.Ordinal);

        // Each belongs to its own interface, and engines serve a live task capability.
        Assert.StartsWith("only a task capability can have engines of its own", Assert.Throws<ArgumentException>(() => Issue(CapabilityInterfaces.Engine, ownEngines: true)).Message, StringComparison.Ordinal);
        Assert.StartsWith("only an engine capability can serve", Assert.Throws<ArgumentException>(() => Issue(serves: alice.Record.Id)).Message, StringComparison.Ordinal);
        Assert.StartsWith($"engines serve the tasks of a task capability, and {engines.Record.Id} grants engine", Assert.Throws<ArgumentException>(() => Issue(CapabilityInterfaces.Engine, serves: engines.Record.Id)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Issue(CapabilityInterfaces.Engine, serves: "cap_unknownunknown1"));
        _registry.Revoke(bob.Record.Id);
        Assert.Throws<ArgumentException>(() => Issue(CapabilityInterfaces.Engine, serves: bob.Record.Id));

        var reread = CapabilityRegistry.LoadOrCreate(_folder.Path, _time);
        Assert.True(reread.Find(alice.Record.Id)!.OwnEngines);
        Assert.Equal(alice.Record.Id, reread.Find(alices.Record.Id)!.Serves);
        Assert.False(reread.Find(tasks.Record.Id)!.OwnEngines);
        Assert.Null(reread.Find(engines.Record.Id)!.Serves);
    }

    [Fact]
    public void Reload_SeesRevocationByAnotherProcess()
    {
        var issued = Issue();
        var other = CapabilityRegistry.LoadOrCreate(_folder.Path, _time);
        Assert.True(other.Revoke(issued.Record.Id));
        Assert.True(Check(issued).Allowed);

        _registry.Reload();

        Assert.Equal(CapabilityRefusal.Revoked, Check(issued).Refusal);
    }

    [Fact]
    public void ReloadIfChanged_ReloadsOnlyAfterAnotherWriter()
    {
        var issued = Issue();
        Assert.False(_registry.ReloadIfChanged());

        CapabilityRegistry.LoadOrCreate(_folder.Path, _time).Revoke(issued.Record.Id);

        Assert.True(_registry.ReloadIfChanged());
        Assert.Equal(CapabilityRefusal.Revoked, Check(issued).Refusal);
        Assert.False(_registry.ReloadIfChanged());
    }

    [Fact]
    public void Issue_AfterAnotherProcessRevoked_DoesNotUndoTheRevocation()
    {
        var issued = Issue();
        var other = CapabilityRegistry.LoadOrCreate(_folder.Path, _time);
        other.Revoke(issued.Record.Id);

        Issue();

        var fresh = CapabilityRegistry.LoadOrCreate(_folder.Path, _time);
        Assert.True(fresh.Find(issued.Record.Id)!.Revoked);
        Assert.Equal(2, fresh.All.Count);
    }

    [Fact]
    public void LoadOrCreate_CorruptFile_NamesIt()
    {
        File.WriteAllText(RegistryPath, "{ not json");
        var error = Assert.Throws<CapClusterException>(() => CapabilityRegistry.LoadOrCreate(_folder.Path, _time));
        Assert.Contains(RegistryPath, error.Message);
    }

    [Fact]
    public async Task Issue_FromManyThreads_LosesNothing()
    {
        var tasks = Enumerable.Range(0, 8).Select(_ => Task.Run(() => Issue())).ToArray();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(8, _registry.All.Count);
        Assert.Equal(8, CapabilityRegistry.LoadOrCreate(_folder.Path, _time).All.Count);
    }

    [Fact]
    public void Mismatch_OneCapabilitysUrlWithAnothersCertificate_NamesBoth()
    {
        var alice = Issue(label: "alice");
        var bob = Issue(label: "bob");

        Assert.Null(_registry.Mismatch(alice.File));
        var joined = new CapabilityFile(alice.File.Url, bob.File.HolderCertificate, bob.File.CaCertificate);
        var problem = _registry.Mismatch(joined);
        Assert.Equal($"the URL is capability {alice.Record.Id} (alice)'s but the holder certificate is {bob.Record.Id} (bob)'s: "
            + "the file joins the parts of two capabilities; use the .cap file written for one of them", problem);

        var edited = new CapabilityFile(alice.File.Url with { Secret = CapabilitySecret.Create() }, alice.File.HolderCertificate, alice.File.CaCertificate);
        Assert.StartsWith($"the URL's secret is not the one of capability {alice.Record.Id} (alice)", _registry.Mismatch(edited));
    }

    [Fact]
    public void Mismatch_ACertificateTheRegistryDidNotIssue_SaysSo()
    {
        using var otherCa = CertificateAuthority.CreateEphemeral(time: _time);
        var other = CapabilityRegistry.LoadOrCreate(_folder.File("other"), _time).Issue(otherCa, CapabilityInterfaces.Task, Here);
        Assert.StartsWith($"the holder certificate is for capability {other.Record.Id}, which this controller's registry does not hold", _registry.Mismatch(other.File));
    }
}

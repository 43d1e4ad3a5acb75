using CapCluster.Controller.Internal;
using CapCluster.Controller.Tests.Infrastructure;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CapCluster.Controller.Tests.Gate;

/// <summary>
/// The capability gate through test call contexts (<see cref="CallContext.CreateForTest"/>): a real CA, registry and
/// audit log in a temp folder, a fake clock. What it accepts, what it refuses and with which status, and what the audit
/// log says of each; closing the connections of a revoked capability.
/// </summary>
public sealed class CapabilityGateTests : IDisposable
{
    private const int EnginePort = 7001;
    private const int ClientPort = 7002;
    private const string TaskService = "/capcluster.v1.TaskFarm/";

    private readonly TempFolder folder = new();
    private readonly FakeTimeProvider time = new(DateTimeOffset.UtcNow);
    private readonly CertificateAuthority ca;
    private readonly CapabilityRegistry registry;
    private readonly AuditLog audit;
    private readonly CapabilityGate gate;

    public CapabilityGateTests()
    {
        ca = CertificateAuthority.CreateEphemeral(time: time);
        registry = CapabilityRegistry.LoadOrCreate(folder.Path, time);
        audit = AuditLog.Open(Path.Combine(folder.Path, "audit.log"), folder.Path, time, new AuditLogOptions { AggregationInterval = TimeSpan.Zero });
        gate = new CapabilityGate(ca, registry, audit, Task.FromResult(EnginePort), time, NullLogger.Instance);
    }

    public void Dispose()
    {
        audit.Dispose();
        ca.Dispose();
        folder.Dispose();
    }

    private IssuedCapability Issue(string iface = CapabilityInterfaces.Task, DateTimeOffset? expires = null, IReadOnlyList<string>? methods = null) =>
        registry.Issue(ca, iface, [new CapabilityLocation("localhost", ClientPort)], "test", expires, methods);

    private static CallContext Call(IssuedCapability? holder, string method, string? secret = null, int port = ClientPort, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null) =>
        CallContext.CreateForTest(
            method,
            certificate ?? holder?.File.HolderCertificate,
            secret is null && holder is null ? [] : [CapabilityMetadata.For(secret ?? holder!.File.Url.Secret)],
            localPort: port);

    private async Task<RpcException> RefusedAsync(CallContext context) =>
        await Assert.ThrowsAsync<RpcException>(() => gate.AuthorizeAsync(context).AsTask().Within());

    private IReadOnlyList<AuditRecord> Audited() => AuditLog.ReadAll(audit.FilePath);

    [Fact]
    public async Task ValidCall_IsAccepted_LeavesItsCapabilityForTheHandler_AndIsAuditedOncePerConnection()
    {
        var holder = Issue();
        var first = Call(holder, TaskService + "GetResults");

        await gate.AuthorizeAsync(first).AsTask().Within();
        await gate.AuthorizeAsync(Call(holder, TaskService + "QueueStatus")).AsTask().Within();

        Assert.Equal(holder.Record, first.Items[CallItems.Capability]);
        var accepted = Assert.Single(Audited(), r => r.Outcome == AuditRecord.Accepted);
        Assert.Equal(holder.Record.Id, accepted.CapabilityId);
        Assert.Equal("GetResults", accepted.Method);
    }

    [Fact]
    public async Task ACallItsHandlerRefusedForWhatItSent_IsAuditedAsRefused_NamingTheCapabilityAndWhy()
    {
        var holder = Issue(CapabilityInterfaces.MultiEngine);
        var session = Call(holder, "/capcluster.v1.MultiEngine/Session");
        await gate.AuthorizeAsync(session).AsTask().Within();

        gate.CallFailed(session, new Status(StatusCode.InvalidArgument, "blob 0 announces -5 bytes"));

        var refused = Assert.Single(Audited(), r => r.Outcome == AuditRecord.Refused);
        Assert.Equal(holder.Record.Id, refused.CapabilityId);
        Assert.Equal("Session", refused.Method);
        Assert.Equal("InvalidArgument: blob 0 announces -5 bytes", refused.Reason);
    }

    [Fact]
    public async Task PrivilegedCall_IsAuditedEveryTime()
    {
        var holder = Issue();
        await gate.AuthorizeAsync(Call(holder, TaskService + "GetResults")).AsTask().Within();

        await gate.AuthorizeAsync(Call(holder, TaskService + "Abort")).AsTask().Within();

        var abort = Assert.Single(Audited(), r => r.Method == "Abort");
        Assert.Equal(AuditRecord.Accepted, abort.Outcome);
        Assert.Equal("privileged call", abort.Reason);
    }

    [Fact]
    public async Task NoCertificate_IsRefusedUnauthenticated_AndAudited()
    {
        var refused = await RefusedAsync(Call(null, TaskService + "GetResults"));

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        var record = Assert.Single(Audited(), r => r.Outcome == AuditRecord.Refused);
        Assert.Null(record.CapabilityId);
        Assert.Equal("GetResults", record.Method);
    }

    [Fact]
    public async Task AnotherCasCertificate_IsRefusedUnauthenticated()
    {
        var holder = Issue();
        using var stranger = CertificateAuthority.CreateEphemeral("another CA", time);
        using var foreign = stranger.IssueHolderCertificate(holder.Record.Id, CapabilityInterfaces.Task, null);

        var refused = await RefusedAsync(Call(holder, TaskService + "GetResults", certificate: foreign));

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(RefusalKind.Certificate, Refusals.Read(refused)!.Kind);
    }

    [Fact]
    public async Task WrongSecret_IsRefusedUnauthenticated_AndTheAuditNamesTheCapability()
    {
        var holder = Issue();

        var refused = await RefusedAsync(Call(holder, TaskService + "GetResults", secret: Issue().File.Url.Secret));

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(RefusalKind.Capability, Refusals.Read(refused)!.Kind);
        Assert.Equal(holder.Record.Id, Assert.Single(Audited(), r => r.Outcome == AuditRecord.Refused).CapabilityId);
    }

    [Fact]
    public async Task NoSecret_IsRefused_SayingHowToPresentOne()
    {
        var holder = Issue();
        var context = CallContext.CreateForTest(TaskService + "GetResults", holder.File.HolderCertificate, localPort: ClientPort);

        var refused = await RefusedAsync(context);

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains($"no capability secret was presented (metadata '{CapabilityMetadata.HeaderName}: {CapabilityMetadata.Scheme} <secret>')", refused.Status.Detail);
    }

    [Fact]
    public async Task MethodOutsideItsAllowList_IsRefusedPermissionDenied()
    {
        var holder = Issue(methods: ["GetResults"]);
        await gate.AuthorizeAsync(Call(holder, TaskService + "GetResults")).AsTask().Within();

        var refused = await RefusedAsync(Call(holder, TaskService + "Abort"));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal(RefusalKind.NotAllowed, Refusals.Read(refused)!.Kind);
    }

    [Fact]
    public async Task ClientService_OnTheEnginePort_IsRefusedPermissionDenied()
    {
        var holder = Issue();

        var refused = await RefusedAsync(Call(holder, TaskService + "GetResults", port: EnginePort));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("capcluster.v1.TaskFarm is not served on the engine port", refused.Status.Detail);
    }

    [Fact]
    public async Task UnknownService_IsRefusedUnimplemented()
    {
        var holder = Issue();

        var refused = await RefusedAsync(Call(holder, "/capcluster.v1.Nothing/Call"));

        Assert.Equal(StatusCode.Unimplemented, refused.StatusCode);
    }

    [Fact]
    public async Task ExpiredOnTheClock_IsRefused()
    {
        var holder = Issue(expires: time.GetUtcNow().AddHours(1));
        await gate.AuthorizeAsync(Call(holder, TaskService + "GetResults")).AsTask().Within();

        time.Advance(TimeSpan.FromHours(2));
        var refused = await RefusedAsync(Call(holder, TaskService + "QueueStatus"));

        Assert.NotEqual(StatusCode.OK, refused.StatusCode);
        Assert.Contains("expired", refused.Status.Detail);
        Assert.Equal("QueueStatus", Assert.Single(Audited(), r => r.Outcome == AuditRecord.Refused).Method);
    }

    [Fact]
    public async Task Revoked_IsRefused_AndItsOpenConnectionsAreClosedAndAudited()
    {
        var holder = Issue();
        var other = Issue();
        var aborted = new List<string>();
        gate.Track(holder.Record.Id, "connection-1", new LiveConnection("ipv4:127.0.0.1:5000", "capcluster.v1.TaskFarm", "Tasks", "fp", () => true, () => aborted.Add("holder")));
        gate.Track(other.Record.Id, "connection-2", new LiveConnection("ipv4:127.0.0.1:5001", "capcluster.v1.TaskFarm", "Tasks", "fp", () => true, () => aborted.Add("other")));

        Assert.True(registry.Revoke(holder.Record.Id));
        var closed = gate.CloseConnectionsOfDeadCapabilities();
        var refused = await RefusedAsync(Call(holder, TaskService + "GetResults"));

        Assert.Equal(1, closed);
        Assert.Equal(["holder"], aborted);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        var record = Assert.Single(Audited(), r => r.Outcome == AuditRecord.Closed);
        Assert.Equal(holder.Record.Id, record.CapabilityId);
        Assert.StartsWith($"capability {holder.Record.Id} was revoked at ", record.Reason);
    }
}

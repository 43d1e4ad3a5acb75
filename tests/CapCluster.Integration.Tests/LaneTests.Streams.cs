using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Protocol;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>
/// Stream lanes on a real controller and engines: engine links and task streams leave HTTP/2 for connections of
/// their own, granted only through the gate, joined on the data port only with the granted certificate (on the
/// controller's local socket only by its own uid), and audited either way.
/// </summary>
public sealed partial class LaneTests
{
    [Fact]
    public async Task EngineLinksAndTaskStreams_TravelOnStreamLanesThroughTheKernelOnly_AndAreAudited()
    {
        await using var tasks = await TaskClient.ConnectAsync(cluster.Directory.CapFile(CapabilityInterfaces.Task)).WaitAsync(Timeout);
        var ids = await tasks.RunAsync([.. Enumerable.Range(0, 200).Select(i => (TaskDefinition)DelegateTask.Of(() => i * 3))]).WaitAsync(Timeout);
        var results = await tasks.BarrierAsync(ids).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(0, 200).Select(i => i * 3), results.Select(r => Convert.ToInt32(r.Value)));
        Assert.Equal(2, results.Select(r => r.EngineId).Distinct().Count());
        var accepted = AuditLog.ReadAll(Paths.AuditLogFile).Where(r => r.Method == "Stream" && r.Outcome == AuditRecord.Accepted).ToList();
        // Both engines hold engine.cap on this host: the second lane within the audit interval is counted with the first.
        var engineLanes = accepted.Where(r => r.Service == CapClusterMethods.EngineLinkService && r.Reason!.StartsWith("stream lane for Connect", StringComparison.Ordinal)).ToList();
        // Client, controller and engines share this host and its user: the streams go on the local socket, without TLS.
        Assert.Equal("stream lane for Connect, path=local", engineLanes[0].Reason);
        Assert.InRange(engineLanes.Sum(r => r.Count), 1, 2);
        Assert.Single(accepted, r => r.Service == CapClusterMethods.TaskFarmService && r.Reason == "stream lane for Tasks, path=local");
    }

    [Fact]
    public async Task LocalSocket_RefusesAStreamOfAnEngineUserTheOwnerAllowed_ForAStreamThereRunsWithoutTls()
    {
        // The owner lets uid 65534 (nobody) hand over engine ends of data lanes on the local socket: that does not let it
        // join a stream there, where there is no TLS to check its certificate. Its engines' streams take the data port.
        await using var allowing = await RunningCluster.StartAsync(0, "--handoff-uid", "65534");
        var name = LocalSocketName(allowing.Directory.Paths());
        var preamble = string.Concat(LanePreamble.Create(RandomNumberGenerator.GetBytes(LanePreamble.IdLength), LaneRole.Stream).Select(b => $"\\x{b:x2}"));
        var script = $"import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect('\\0{name}'); s.sendall(b'{preamble}'); " +
            "d=b''\nwhile True:\n c=s.recv(4096)\n if not c: break\n d+=c\nsys.stdout.write(str(d[0]) + ' ' + d[1:].decode())";
        var result = await HostCommand.RunAsync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script]);

        Assert.True(result.ExitCode == 0, $"setpriv (this test runs as root, as CI does): {result.Error}");
        Assert.StartsWith($"{LanePreamble.Refused} uid 65534 may join on the local socket only as an engine's end of a data lane", result.Output, StringComparison.Ordinal);
        Assert.Contains(AuditLog.ReadAll(allowing.Directory.Paths().AuditLogFile), r => r.Method == "Lane" && r.Outcome == AuditRecord.Refused
            && r.RemoteAddress!.EndsWith(" uid 65534", StringComparison.Ordinal) && r.Reason!.Contains("a client's end or a stream joins there only with the controller's own uid", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DataPort_UnknownStreamLane_IsRefusedWithTheReason_AndAudited()
    {
        var port = ControllerState.TryRead(Paths.SecurityFolder)!.DataPort;
        using var stranger = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await stranger.ConnectAsync("127.0.0.1", port).WaitAsync(Timeout);
        await stranger.SendAsync(LanePreamble.Create(RandomNumberGenerator.GetBytes(LanePreamble.IdLength), LaneRole.Stream), SocketFlags.None);

        var answer = await DataPortProbe.ReadToEndAsync(stranger, Timeout);
        Assert.Equal(LanePreamble.Refused, answer[0]);
        Assert.Equal("no such stream lane was granted, or it expired", Encoding.UTF8.GetString(answer, 1, answer.Length - 1));
        Assert.Contains(AuditLog.ReadAll(Paths.AuditLogFile), r => r.Method == "Stream" && r.Outcome == AuditRecord.Refused
            && r.Reason == "no such stream lane was granted, or it expired");
    }

    [Fact]
    public async Task StreamLane_JoinedWithAnotherHoldersCertificate_IsRefused_AndAudited()
    {
        using var owner = ControllerConnection.Open(cluster.Directory.CapFile(CapabilityInterfaces.Task), CapabilityInterfaces.Task);
        using var other = ControllerConnection.Open(cluster.Directory.CapFile(CapabilityInterfaces.MultiEngine), CapabilityInterfaces.MultiEngine);
        var grant = await owner.Channel.UnaryAsync(CapClusterMethods.TasksOpenStream, new OpenStreamRequest()).WaitAsync(Timeout);

        // The multiengine holder's certificate chains to the same CA, but it is not the one the task stream was granted to.
        var dataPort = new[] { new DnsEndPoint("127.0.0.1", grant.DataPort) };
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var call = await other.Channel.DuplexStreamingOnLaneAsync(CapClusterMethods.Tasks, dataPort, grant.LaneId.ToByteArray()).WaitAsync(Timeout);
            await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout);
        });

        await DataPortProbe.WaitUntilAsync(() => AuditLog.ReadAll(Paths.AuditLogFile).Any(r => r.Method == "Stream" && r.Outcome == AuditRecord.Refused
            && r.Reason!.Contains("the client presented a certificate other than the one the stream was granted to", StringComparison.Ordinal)), Timeout);

        // The grant was used up by that attempt: its owner cannot join it afterwards either.
        var late = await Assert.ThrowsAsync<LaneException>(() => owner.Channel.DuplexStreamingOnLaneAsync(CapClusterMethods.Tasks, dataPort, grant.LaneId.ToByteArray()).WaitAsync(Timeout));
        Assert.Contains("no such stream lane was granted, or it expired", late.Message);
    }

    [Fact]
    public async Task OpenStream_ForACapabilityWhoseAllowListLacksTheStream_IsRefusedAtTheGate()
    {
        var limitedPath = Path.Combine(cluster.Directory.BaseFolder, "results-only.cap");
        var attenuate = await cluster.Directory.RunAsync("furlgen", "attenuate", cluster.Directory.CapFile(CapabilityInterfaces.Task),
            "--label", "results-only", "--methods", "GetResults", "-o", limitedPath);
        Assert.True(attenuate.ExitCode == 0, attenuate.ToString());
        using var limited = ControllerConnection.Open(limitedPath, CapabilityInterfaces.Task);

        var error = await Assert.ThrowsAsync<RpcException>(() => limited.Channel.UnaryAsync(CapClusterMethods.TasksOpenStream, new OpenStreamRequest()).WaitAsync(Timeout));
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains(AuditLog.ReadAll(Paths.AuditLogFile), r => r.Label == "results-only" && r.Method == "OpenStream" && r.Outcome == AuditRecord.Refused);
    }
}

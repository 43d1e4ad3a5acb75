using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Hosting;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Protocol;
using CapCluster.Protocol.DataLanes;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>
/// Data lanes on a real controller and engines: bulk pushes and pulls travel end to end on them,
/// the data port refuses what it did not grant, and a revocation closes them. Every verdict is audited.
/// </summary>
public sealed partial class LaneTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private RunningCluster cluster = null!;

    private ClusterPaths Paths => cluster.Directory.Paths();

    public async Task InitializeAsync() => cluster = await RunningCluster.StartAsync(2);

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task BulkPushAndPull_TravelOnALanePerEngine_EqualOnReturn_AndTheLanesAreAudited()
    {
        var data = RandomNumberGenerator.GetBytes(24 * 1024 * 1024 + 3);

        await cluster.Client.PushAsync("bulk", data).GetAsync(Timeout);
        var pulled = await cluster.Client.PullAsync<byte[]>("bulk").GetAsync(Timeout);
        var sums = await cluster.Client.ExecuteAsync("bulk.Sum(b => (long)b)").GetAsync(Timeout);

        Assert.Equal(2, pulled.Count);
        Assert.All(pulled, p => Assert.Equal(data, p));
        Assert.All(sums, r => Assert.Equal(data.Sum(b => (long)b), Convert.ToInt64(r.Value)));
        var accepted = AuditLog.ReadAll(Paths.AuditLogFile).Where(r => r.Method == "Lane" && r.Outcome == AuditRecord.Accepted).ToList();
        // Client, controller and engines share this host: the lanes are Unix sockets, through the kernel only.
        Assert.Contains(accepted, r => r.Reason == "data lane to engine 0, handed to the engine, path=local");
        Assert.Contains(accepted, r => r.Reason == "data lane to engine 1, handed to the engine, path=local");
        Assert.DoesNotContain(accepted, r => r.Reason!.EndsWith("path=tls", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DataPort_UnknownLaneOrNoPreamble_IsRefusedWithTheReason_AndAudited()
    {
        var port = ControllerState.TryRead(Paths.SecurityFolder)!.DataPort;

        using (var stranger = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            await stranger.ConnectAsync("127.0.0.1", port).WaitAsync(Timeout);
            await stranger.SendAsync(LanePreamble.Create(RandomNumberGenerator.GetBytes(LanePreamble.IdLength), LaneRole.Client), SocketFlags.None);
            var answer = await DataPortProbe.ReadToEndAsync(stranger, Timeout);
            Assert.Equal(LanePreamble.Refused, answer[0]);
            Assert.Equal("no such data lane was granted, or it expired", Encoding.UTF8.GetString(answer, 1, answer.Length - 1));
        }

        using (var http = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            await http.ConnectAsync("127.0.0.1", port).WaitAsync(Timeout);
            // Exactly a preamble's length, so that nothing is left unread when the port answers and closes.
            await http.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n"u8.ToArray(), SocketFlags.None);
            var answer = await DataPortProbe.ReadToEndAsync(http, Timeout);
            Assert.Equal("not a data lane preamble", Encoding.UTF8.GetString(answer, 1, answer.Length - 1));
        }

        var refused = AuditLog.ReadAll(Paths.AuditLogFile).Where(r => r.Method == "Lane" && r.Outcome == AuditRecord.Refused).ToList();
        Assert.Contains(refused, r => r.Reason == "no such data lane was granted, or it expired" && r.RemoteAddress!.Contains("127.0.0.1", StringComparison.Ordinal));
        Assert.Contains(refused, r => r.Reason == "not a data lane preamble");
    }

    [Fact]
    public async Task LocalSocket_RefusesUnknownLanesAndStreams_AndAuditsThemWithThePeersPid()
    {
        var log = string.Join('\n', LogLines.ReadFile(Directory.GetFiles(Paths.LogFolder, "capcontroller-*.log").Single()));
        var name = Regex.Match(log, "local socket for engines on this host: (capcluster-lanes-[0-9a-f]+)").Groups[1].Value;
        Assert.NotEmpty(name);

        async Task<string> RefusalAsync(LaneRole role)
        {
            using var stranger = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await stranger.ConnectAsync(new UnixDomainSocketEndPoint("\0" + name)).WaitAsync(Timeout);
            await stranger.SendAsync(LanePreamble.Create(RandomNumberGenerator.GetBytes(LanePreamble.IdLength), role), SocketFlags.None);
            var answer = await DataPortProbe.ReadToEndAsync(stranger, Timeout);
            Assert.Equal(LanePreamble.Refused, answer[0]);
            return Encoding.UTF8.GetString(answer, 1, answer.Length - 1);
        }

        Assert.Equal("no such stream lane was granted, or it expired", await RefusalAsync(LaneRole.Stream));
        Assert.Equal("no such data lane was granted, or it expired", await RefusalAsync(LaneRole.Engine));
        Assert.Equal("no such data lane was granted, or it expired", await RefusalAsync(LaneRole.Client));

        var refused = AuditLog.ReadAll(Paths.AuditLogFile).Where(r => r.Method is "Lane" or "Stream" && r.Outcome == AuditRecord.Refused).ToList();
        Assert.Equal(3, refused.Count(r => r.RemoteAddress!.StartsWith($"local pid {Environment.ProcessId} uid ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task LocalSocket_RefusesAPeerOfAnotherUser_NamingItsUidAndTheOption_AndAuditsIt()
    {
        var name = LocalSocketName();

        // A process of user 65534 (nobody) on this host: the kernel tells the controller its uid, and it is refused before it sends anything.
        var script = $"import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect('\\0{name}'); " +
            "d=b''\nwhile True:\n c=s.recv(4096)\n if not c: break\n d+=c\nsys.stdout.write(d[1:].decode())";
        var result = await HostCommand.RunAsync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script]);

        Assert.True(result.ExitCode == 0, $"setpriv (this test runs as root, as CI does): {result.Error}");
        Assert.StartsWith("uid 65534 may not join on the local hand-over socket", result.Output, StringComparison.Ordinal);
        Assert.Contains("--handoff-uid", result.Output, StringComparison.Ordinal);
        Assert.Contains(AuditLog.ReadAll(Paths.AuditLogFile), r => r.Method == "Lane" && r.Outcome == AuditRecord.Refused
            && r.RemoteAddress!.EndsWith(" uid 65534", StringComparison.Ordinal) && r.Reason!.StartsWith("uid 65534 may not join", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LocalSocket_RefusesAClientEndOfAnotherUser_EvenWithAGrantedLaneId_AndTheGrantStaysTheHoldersOwn()
    {
        // A process of another user that learnt a granted lane id (it cannot: the id travels only on mutual-TLS
        // connections) still gets nothing from the local path: the kernel names its uid before it is read.
        var name = LocalSocketName();
        using var connection = ControllerConnection.Open(cluster.Directory.CapFile(CapabilityInterfaces.MultiEngine), CapabilityInterfaces.MultiEngine);
        var grant = await connection.CallAsync(o => connection.MultiEngine.OpenLaneAsync(new OpenLaneRequest { EngineId = 0 }, o), CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(name, grant.LocalSocket);
        var preamble = string.Concat(LanePreamble.Create(grant.LaneId.ToByteArray(), LaneRole.Client).Select(b => $"\\x{b:x2}"));
        // The controller answers at once, before it reads anything: the script reads the refusal first (sending first
        // could lose it to a reset, as the controller closes with the preamble unread), then finds it cannot send.
        var script = $"import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect('\\0{name}'); " +
            "d=b''\nwhile True:\n c=s.recv(4096)\n if not c: break\n d+=c\n" +
            $"try:\n s.sendall(b'{preamble}'); sent='sent'\nexcept OSError: sent='closed'\n" +
            "sys.stdout.write(str(d[0]) + ' ' + d[1:].decode() + '|' + sent)";
        var result = await HostCommand.RunAsync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script]);

        Assert.True(result.ExitCode == 0, $"setpriv (this test runs as root, as CI does): {result.Error}");
        Assert.StartsWith($"{LanePreamble.Refused} uid 65534 may not join on the local hand-over socket", result.Output, StringComparison.Ordinal);
        Assert.EndsWith("|closed", result.Output, StringComparison.Ordinal);
        Assert.Contains(AuditLog.ReadAll(Paths.AuditLogFile), r => r.Method == "Lane" && r.Outcome == AuditRecord.Refused
            && r.RemoteAddress!.EndsWith(" uid 65534", StringComparison.Ordinal));

        // The holder of the grant joins it afterwards, on the local path.
        await using var lane = await LaneConnection.ConnectAsync(
            connection.LaneOptions(grant.DataPort, grant.LaneId, LaneRole.Client, grant.EngineCertificateSha256, "the test's lane to engine 0") with { HandoffSocket = grant.LocalSocket },
            CancellationToken.None).WaitAsync(Timeout);
        Assert.True(lane.IsLocal);
        Assert.Contains(AuditLog.ReadAll(Paths.AuditLogFile), r => r.Method == "Lane" && r.Reason == "data lane to engine 0, handed to the engine, path=local");
    }

    [Fact]
    public async Task BusyEngine_StillJoinsADataLane_WhileItRunsAJob()
    {
        bool LaneAccepted() => AuditLog.ReadAll(Paths.AuditLogFile).Any(r => r.Method == "Lane" && r.Outcome == AuditRecord.Accepted && r.Reason!.StartsWith("data lane to engine 1,", StringComparison.Ordinal));
        Assert.False(LaneAccepted());

        // A shipped delegate runs on the engine's worker loop itself (code runs on the namespace's own thread).
        var job = cluster.Client.ApplyAsync(() => { Thread.Sleep(5000); return 1; }, [1]);
        await Task.Delay(500);

        // The push waits in engine 1's queue behind the job, but its lane opens now: the engine's reader is not the worker.
        var push = cluster.Client.PushAsync("queued", new byte[2 * 1024 * 1024], [1]);
        await DataPortProbe.WaitUntilAsync(LaneAccepted, Timeout);
        Assert.False(job.Ready, "the lane opened only after the job had ended");

        await job.GetAsync(Timeout);
        await push.GetAsync(Timeout);
    }

    [Fact]
    public async Task EngineKilledWithAHandedLaneOpen_TheLaneClosesAtTheClient_CallsFailAtOnce_AndTheOtherEngineKeepsWorking()
    {
        var pid = Convert.ToInt32((await cluster.Client.ExecuteAsync("Environment.ProcessId", [1]).GetAsync(Timeout))[0].Value);

        // The controller keeps a descriptor of the lane's connection, which it handed to the engine: when the engine dies, it must shut that connection down, or the client's end would
        // stay open and wait for ever.
        await using var lane = await HoldLaneAsync(cluster.Directory.CapFile(CapabilityInterfaces.MultiEngine), 1, local: true);
        Assert.True(lane.IsLocal);
        Assert.Contains(AuditLog.ReadAll(Paths.AuditLogFile), r => r.Method == "Lane" && r.Reason == "data lane to engine 1, handed to the engine, path=local");

        var job = cluster.Client.ApplyAsync(() => { Thread.Sleep(30_000); return 1; }, [1]);
        await Task.Delay(500);
        using (var engine = System.Diagnostics.Process.GetProcessById(pid))
        {
            engine.Kill();
        }

        await lane.Closed.WaitAsync(Timeout);
        var lost = await Assert.ThrowsAsync<EngineLostException>(() => job.GetAsync(Timeout));
        Assert.Contains("engine 1", lost.Message);
        await cluster.Client.PushAsync("after", new byte[4 * 1024 * 1024], [0]).GetAsync(Timeout);
        Assert.Equal(4 * 1024 * 1024, (await cluster.Client.PullAsync<byte[]>("after", [0]).GetAsync(Timeout))[0].Length);
    }

    [Fact]
    public async Task ControllerKilled_TheEngineClosesTheLaneItWasHanded()
    {
        // A handed lane no longer passes through the controller; it must not outlive the controller that granted it
        // (the next controller could not close it on a revocation). The engine closes it when its session ends.
        await using var lane = await HoldLaneAsync(cluster.Directory.CapFile(CapabilityInterfaces.MultiEngine), 0);
        Assert.True(lane.IsOpen);
        Assert.Contains(AuditLog.ReadAll(Paths.AuditLogFile), r => r.Method == "Lane" && r.Reason == "data lane to engine 0, handed to the engine, path=tls");

        using (var controller = System.Diagnostics.Process.GetProcessById(ControllerState.TryRead(Paths.SecurityFolder)!.Pid))
        {
            controller.Kill();
        }

        await lane.Closed.WaitAsync(Timeout);
    }

    [Fact]
    public async Task RevokedCapability_HasItsLanesClosed_AndCannotOpenAnother()
    {
        var bulkPath = Path.Combine(cluster.Directory.BaseFolder, "bulk.cap");
        var attenuate = await cluster.Directory.RunAsync("furlgen", "attenuate", cluster.Directory.CapFile(CapabilityInterfaces.MultiEngine), "--label", "bulk", "-o", bulkPath);
        Assert.True(attenuate.ExitCode == 0, attenuate.ToString());
        await using var bulk = await MultiEngineClient.ConnectAsync(bulkPath).WaitAsync(Timeout);
        await bulk.PushAsync("b", new byte[4 * 1024 * 1024], [0]).GetAsync(Timeout);
        Assert.Contains(AuditLog.ReadAll(Paths.AuditLogFile), r => r.Label == "bulk" && r.Method == "Lane" && r.Outcome == AuditRecord.Accepted);

        await using var lane = await HoldLaneAsync(bulkPath, 1);

        var revoke = await cluster.Directory.RunAsync("furlgen", "revoke", bulkPath);
        Assert.True(revoke.ExitCode == 0, revoke.ToString());

        await DataPortProbe.WaitUntilAsync(() => AuditLog.ReadAll(Paths.AuditLogFile).Any(r => r.Label == "bulk" && r.Method == "Lane" && r.Outcome == AuditRecord.Closed), Timeout);

        // A push made while the client has not yet seen its connections close fails on them (how many depends on when
        // the HTTP/2 connection pool notices the close); a later one is refused, saying why.
        CapabilityRefusedException? refused = null;
        var lost = new List<string>();
        var until = DateTime.UtcNow + Timeout;
        while (refused is null && DateTime.UtcNow < until && lost.Count < 20)
        {
            try
            {
                await bulk.PushAsync("b", new byte[4 * 1024 * 1024], [0]).GetAsync(Timeout);
                Assert.Fail("a push with a revoked capability succeeded");
            }
            catch (CapabilityRefusedException e)
            {
                refused = e;
            }
            catch (Exception e) when (e is ControllerUnreachableException or EngineLostException
                || (e is RemoteException remote && remote.RemoteType.EndsWith(".LaneException", StringComparison.Ordinal)))
            {
                // The session or the data lane closed under it (a call admitted on the session before it closed reaches the
                // engine, whose end of the revoked lane then breaks).
                lost.Add($"{e.GetType().Name}: {e.Message}");
            }
        }

        Assert.True(refused is not null, $"no push was refused; each saw its connection lost:\n{string.Join("\n", lost)}");
        Assert.Contains("was revoked", refused!.Message);
        await lane.Closed.WaitAsync(Timeout);
    }

    [Fact]
    public async Task LaneGrantedBeforeARevocation_IsRefusedWhenJoinedAfterIt_AndAudited()
    {
        var latePath = Path.Combine(cluster.Directory.BaseFolder, "late.cap");
        var attenuate = await cluster.Directory.RunAsync("furlgen", "attenuate", cluster.Directory.CapFile(CapabilityInterfaces.MultiEngine), "--label", "late", "-o", latePath);
        Assert.True(attenuate.ExitCode == 0, attenuate.ToString());
        using var connection = ControllerConnection.Open(latePath, CapabilityInterfaces.MultiEngine);
        var grant = await connection.CallAsync(o => connection.MultiEngine.OpenLaneAsync(new OpenLaneRequest { EngineId = 0 }, o), CancellationToken.None).WaitAsync(Timeout);

        var revoke = await cluster.Directory.RunAsync("furlgen", "revoke", latePath);
        Assert.True(revoke.ExitCode == 0, revoke.ToString());
        // The controller has taken the revocation in once it closed the connection the grant came on.
        await DataPortProbe.WaitUntilAsync(() => AuditLog.ReadAll(Paths.AuditLogFile).Any(r => r.Label == "late" && r.Outcome == AuditRecord.Closed), Timeout);

        using var late = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await late.ConnectAsync("127.0.0.1", grant.DataPort).WaitAsync(Timeout);
        await late.SendAsync(LanePreamble.Create(grant.LaneId.ToByteArray(), LaneRole.Client), SocketFlags.None);
        var answer = await DataPortProbe.ReadToEndAsync(late, Timeout);

        Assert.Equal(LanePreamble.Refused, answer[0]);
        Assert.Contains("was revoked", Encoding.UTF8.GetString(answer, 1, answer.Length - 1));
        Assert.Contains(AuditLog.ReadAll(Paths.AuditLogFile), r => r.Method == "Lane" && r.Outcome == AuditRecord.Refused && r.Reason!.Contains("was revoked", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PullOnlyCapability_CannotMakeAnEngineAllocate_ACraftedFrameOnItsLaneIsRefusedAndTheLaneClosed()
    {
        var pullOnly = Path.Combine(cluster.Directory.BaseFolder, "puller.cap");
        var attenuate = await cluster.Directory.RunAsync("furlgen", "attenuate", cluster.Directory.CapFile(CapabilityInterfaces.MultiEngine),
            "--label", "puller", "--methods", "Pull", "-o", pullOnly);
        Assert.True(attenuate.ExitCode == 0, attenuate.Error);
        var engine = (await cluster.Client.GetEnginesAsync().WaitAsync(Timeout)).Single(e => e.Id == 0);

        // Measured once the engine is warm: its compiler warms up after it registers, which takes memory of its own.
        await cluster.Client.ExecuteAsync("var warm = 1;", [0]).GetAsync(Timeout);
        var before = ResidentBytes(engine.Pid);

        // The lane is granted (pulls use it), but no push was admitted: a frame of 512 MiB on it is not read.
        await using var lane = await HoldLaneAsync(pullOnly, 0);
        var values = new Protocol.Data.OutgoingValues();
        var named = values.Add("flood", new byte[512 * 1024 * 1024]);
        var sending = lane.SendAsync(1, [named], values.Blobs, CancellationToken.None);

        await lane.Closed.WaitAsync(Timeout);
        await Assert.ThrowsAsync<LaneException>(() => sending.WaitAsync(Timeout));
        var after = ResidentBytes(engine.Pid);
        Assert.True(after < before * 1.1, $"the engine grew from {before >> 20} MiB to {after >> 20} MiB");
        // The engine closes the lane, then logs why: the line may land a moment after the test saw the lane close.
        var log = await EngineLogAsync(engine.Pid, "nothing announced it");
        Assert.Contains("transfer 1 arrived on", log, StringComparison.Ordinal);
        Assert.Contains("nothing announced it", log, StringComparison.Ordinal);

        // The engine is unharmed, and a capability that may push still pushes on lanes.
        await cluster.Client.PushAsync("after", new byte[2 * 1024 * 1024], [0]).GetAsync(Timeout);
        Assert.Equal(2 * 1024 * 1024, Convert.ToInt32((await cluster.Client.ExecuteAsync("after.Length", [0]).GetAsync(Timeout)).Single().Value));
    }

    /// <summary>An engine's log as text, once it holds <paramref name="expected"/> (or as it is when the timeout passes).</summary>
    private async Task<string> EngineLogAsync(int pid, string expected)
    {
        var file = Path.Combine(Paths.LogFolder, $"capengine-{pid}.log");
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var log = File.Exists(file) ? string.Join('\n', LogLines.ReadFile(file)) : "";
            if (log.Contains(expected, StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                return log;
            }

            await Task.Delay(50);
        }
    }

    private static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>
    /// A data lane to <paramref name="engineId"/> held as the client library holds one (granted, then joined), to watch it
    /// close: on the local path with <paramref name="local"/>, as the library joins on this host; else on the data port
    /// (as a client on another host would, here handed to the engine with TLS).
    /// </summary>
    private static async Task<LaneConnection> HoldLaneAsync(string capabilityPath, int engineId, bool local = false)
    {
        using var connection = ControllerConnection.Open(capabilityPath, CapabilityInterfaces.MultiEngine);
        var grant = await connection.CallAsync(o => connection.MultiEngine.OpenLaneAsync(new OpenLaneRequest { EngineId = engineId }, o), CancellationToken.None).WaitAsync(Timeout);
        return await LaneConnection.ConnectAsync(
            connection.LaneOptions(grant.DataPort, grant.LaneId, LaneRole.Client, grant.EngineCertificateSha256, $"the test's lane to engine {engineId}")
                with { HandoffSocket = local ? grant.LocalSocket : null },
            CancellationToken.None).WaitAsync(Timeout);
    }

    private string LocalSocketName() => LocalSocketName(Paths);

    private static string LocalSocketName(ClusterPaths paths)
    {
        var log = string.Join('\n', LogLines.ReadFile(Directory.GetFiles(paths.LogFolder, "capcontroller-*.log").Single()));
        var name = Regex.Match(log, "local socket for engines on this host: (capcluster-lanes-[0-9a-f]+)").Groups[1].Value;
        Assert.NotEmpty(name);
        return name;
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Protocol;
using CapCluster.Protocol.Lanes;
using CapCluster.Security;

namespace CapCluster.Integration.Tests;

/// <summary>
/// A peer holding no capability cannot use up what engines and clients share: connections per address and in all,
/// the time a connection without a certificate is kept, the data port's preamble slots; and a capability cannot
/// hold more lanes than its budget. Every refusal is audited, aggregated per peer and reason.
/// </summary>
public sealed class BudgetTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // Loopback answers for all of 127/8: the attacker comes from another address than the cluster's own processes.
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task CertificateLessAndSlowPreambleFloods_LeaveClientsAndANewEngineTheirWay_AreClosedInTime_AndAuditedInAggregate()
    {
        await using var directory = new ClusterDirectory();
        await directory.StartControllerAsync("--audit-interval", "5");
        directory.Start("capengine");
        await using var client = await MultiEngineClient.ConnectAsync(directory.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        await ClusterDirectory.WaitForEnginesAsync(client, 1, Timeout);
        var state = ControllerState.TryRead(directory.Paths().SecurityFolder)!;
        var limits = new ConnectionLimits();

        // 500 connections without a certificate on the client port: those admitted finish TLS 1.3 and then hold on.
        var flood = new List<Socket>();
        var closings = new List<Task<TimeSpan?>>();
        for (var i = 0; i < 500; i++)
        {
            var socket = await ConnectFromAttackerAsync(state.ClientPort);
            flood.Add(socket);
            if (i < 300 && await TryHandshakeWithoutCertificateAsync(socket) is { } tls)
            {
                closings.Add(TimeToCloseAsync(tls));
            }
        }

        // 200 senders of a preamble one byte a second on the data port.
        var slow = new List<Socket>();
        for (var i = 0; i < 200; i++)
        {
            slow.Add(await ConnectFromAttackerAsync(state.DataPort));
        }

        var dripping = DripAsync(slow);

        // Meanwhile: the client works and opens lanes, a newly started engine registers and joins one too.
        directory.Start("capengine");
        await ClusterDirectory.WaitForEnginesAsync(client, 2, Timeout);
        var data = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
        await client.PushAsync("bulk", data).GetAsync(Timeout);
        Assert.All(await client.PullAsync<byte[]>("bulk").GetAsync(Timeout), pulled => Assert.Equal(data, pulled));
        await using (var another = await MultiEngineClient.ConnectAsync(directory.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout))
        {
            Assert.Equal(2, (await another.ExecuteAsync("1 + 1").GetAsync(Timeout)).Count);
        }

        // The certificate-less connections that finished TLS were closed by the controller at its timeout (the slack is
        // for a busy machine), the others at once.
        Assert.True(closings.Count >= 200, $"only {closings.Count} of 300 certificate-less handshakes finished");
        foreach (var closed in await Task.WhenAll(closings))
        {
            Assert.True(closed is { } after && after < limits.CertificateLessTimeout + TimeSpan.FromSeconds(5), $"a certificate-less connection was closed after {closed?.ToString() ?? "never"}");
        }

        // Every slow preamble sender is refused: most at once (no slot from their address), the rest at the deadline.
        await dripping.WaitAsync(Timeout);
        var refusals = await Task.WhenAll(slow.Select(s => DataPortProbe.ReadToEndAsync(s, Timeout)));
        Assert.All(refusals, answer => Assert.Equal(LanePreamble.Refused, answer[0]));

        // The audit log holds a few records per reason with counts, not one line per attempt (after one more interval).
        await Task.Delay(TimeSpan.FromSeconds(7));
        var fromAttacker = AuditLog.ReadAll(directory.Paths().AuditLogFile)
            .Where(r => r.Outcome == AuditRecord.Refused && r.RemoteAddress!.StartsWith("127.0.0.2", StringComparison.Ordinal))
            .ToList();
        Assert.True(fromAttacker.Count < 80, $"{fromAttacker.Count} audit records for 700 refused connections");
        Assert.Contains(fromAttacker, r => r.Reason!.Contains("no client certificate", StringComparison.Ordinal));
        Assert.Contains(fromAttacker, r => r.Reason!.Contains("from one address (--max-connections-per-address)", StringComparison.Ordinal));
        Assert.Contains(fromAttacker, r => r.Reason!.Contains("ConnectionLimits.MaxWaitingPerAddress", StringComparison.Ordinal));
        Assert.Contains(fromAttacker, r => r.Reason!.StartsWith("no whole lane preamble within 5 s", StringComparison.Ordinal));
        Assert.True(fromAttacker.Sum(r => r.Count) >= 600, $"the records count {fromAttacker.Sum(r => r.Count)} refusals");

        foreach (var socket in flood.Concat(slow))
        {
            socket.Dispose();
        }
    }

    [Fact]
    public async Task ACapabilityOverItsLaneBudget_IsRefusedOneMoreLane_WithTheLimitNamed_AndAudited_AndItsCallsStillWork()
    {
        await using var cluster = await RunningCluster.StartAsync(2, "--max-lanes-per-capability", "1");
        var data = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);

        // Two engines want two lanes; the second is refused, and that engine's values travel over the gRPC call instead.
        await cluster.Client.PushAsync("bulk", data).GetAsync(Timeout);
        Assert.All(await cluster.Client.PullAsync<byte[]>("bulk").GetAsync(Timeout), pulled => Assert.Equal(data, pulled));

        var refused = AuditLog.ReadAll(cluster.Directory.Paths().AuditLogFile).Where(r => r.Method == "OpenLane" && r.Outcome == AuditRecord.Refused).ToList();
        Assert.Contains(refused, r => r.Reason!.Contains("lanes granted or open, the most allowed (--max-lanes-per-capability)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CallsOverTheByteBudget_AreRefusedNamingTheLimit_ByChunksOrOnLanes_AndAudited_AndTheSessionGoesOn()
    {
        await using var cluster = await RunningCluster.StartAsync(1, "--max-call-bytes", "300000");

        // Below the lane threshold a push travels in the call; above it, on a lane. Either way it is refused at the controller.
        var inCall = await Assert.ThrowsAnyAsync<CapClusterException>(() => cluster.Client.PushAsync("x", new byte[400_000]).GetAsync(Timeout));
        Assert.Contains("carries 400", inCall.Message, StringComparison.Ordinal);
        Assert.Contains("(--max-call-bytes)", inCall.Message, StringComparison.Ordinal);
        var onLane = await Assert.ThrowsAnyAsync<CapClusterException>(() => cluster.Client.PushAsync("y", new byte[2 * 1024 * 1024]).GetAsync(Timeout));
        Assert.Contains("sent beside its session", onLane.Message, StringComparison.Ordinal);
        Assert.Contains("(--max-call-bytes)", onLane.Message, StringComparison.Ordinal);

        // The same session goes on.
        await cluster.Client.PushAsync("z", new byte[1000]).GetAsync(Timeout);
        Assert.Equal(1000, Convert.ToInt32((await cluster.Client.ExecuteAsync("z.Length").GetAsync(Timeout)).Single().Value));
        Assert.Equal(2, AuditLog.ReadAll(cluster.Directory.Paths().AuditLogFile).Count(r => r.Method == "Push" && r.Outcome == AuditRecord.Refused && r.Reason!.EndsWith("(--max-call-bytes)", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ACapabilityOverItsCallBudget_IsRefusedOneMoreWaitingCall_WithTheLimitNamed_AndAudited_WhileOthersAndItsBarrierWork()
    {
        await using var cluster = await RunningCluster.StartAsync(1, "--max-calls-per-capability", "4");
        var taskCap = cluster.Directory.CapFile(CapabilityInterfaces.Task);
        await using var owner = await TaskClient.ConnectAsync(taskCap).WaitAsync(Timeout);
        await using var waiter = await TaskClient.ConnectAsync(taskCap).WaitAsync(Timeout);
        var slow = await owner.RunAsync(new CodeTask("System.Threading.Thread.Sleep(8000);")).WaitAsync(Timeout);

        // Twenty waits at once from the holder of the one task capability: four at most are admitted, the rest refused.
        var waits = Enumerable.Range(0, 20).Select(_ => waiter.GetResultAsync(slow)).ToList();
        var refusal = await Assert.ThrowsAsync<CapabilityRefusedException>(() => Task.WhenAny(waits).Unwrap().WaitAsync(Timeout));
        Assert.Equal(Protocol.V1.RefusalKind.Budget, refusal.Kind);
        Assert.Contains("calls in progress, the most allowed (--max-calls-per-capability)", refusal.Message, StringComparison.Ordinal);

        // Meanwhile another capability's calls go through, and the holder's results all come in one barrier call.
        Assert.Single(await cluster.Client.ExecuteAsync("1 + 1").GetAsync(Timeout));
        var ids = new List<long> { slow };
        ids.AddRange(await owner.RunAsync([.. Enumerable.Range(0, 30).Select(i => new CodeTask($"var x = {i};"))]).WaitAsync(Timeout));
        Assert.All(await waiter.BarrierAsync(ids).WaitAsync(Timeout), o => Assert.Equal(Client.TaskStatus.Succeeded, o.Status));

        var ended = await Task.WhenAll(waits.Select(async w => await w.WaitAsync(Timeout).ContinueWith(t => t.IsCompletedSuccessfully)));
        Assert.InRange(ended.Count(admitted => admitted), 1, 4);

        // The places were given back when the calls ended.
        Assert.Equal(Client.TaskStatus.Succeeded, (await waiter.GetResultAsync(slow).WaitAsync(Timeout)).Status);
        var audited = AuditLog.ReadAll(cluster.Directory.Paths().AuditLogFile).Where(r => r.Method == "GetResults" && r.Outcome == AuditRecord.Refused).ToList();
        Assert.Contains(audited, r => r.Reason!.Contains("(--max-calls-per-capability)", StringComparison.Ordinal));
    }

    private static async Task<Socket> ConnectFromAttackerAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(Attacker, 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(Timeout);
        return socket;
    }

    private static async Task<SslStream?> TryHandshakeWithoutCertificateAsync(Socket socket)
    {
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                EnabledSslProtocols = SslProtocols.Tls13,
                ApplicationProtocols = [SslApplicationProtocol.Http2],
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            }).WaitAsync(TimeSpan.FromSeconds(10));
            return tls;
        }
        catch (Exception e) when (e is IOException or AuthenticationException or TimeoutException)
        {
            // Refused before TLS: over the per-address limit.
            await tls.DisposeAsync();
            return null;
        }
    }

    /// <summary>How long after the handshake the server closed the connection (what it sends first, its settings or a GOAWAY, is dropped); null if not within a minute.</summary>
    private static async Task<TimeSpan?> TimeToCloseAsync(SslStream tls)
    {
        var clock = Stopwatch.StartNew();
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(Timeout);
        try
        {
            while (await tls.ReadAsync(buffer, deadline.Token) > 0)
            {
            }

            return clock.Elapsed;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (IOException)
        {
            return clock.Elapsed;
        }
        finally
        {
            await tls.DisposeAsync();
        }
    }

    private static async Task DripAsync(IReadOnlyList<Socket> sockets)
    {
        var preamble = LanePreamble.Create(RandomNumberGenerator.GetBytes(LanePreamble.IdLength), LaneRole.Client);
        // Past the preamble deadline, never the whole preamble.
        for (var i = 0; i < Math.Min(preamble.Length - 1, 8); i++)
        {
            foreach (var socket in sockets)
            {
                try
                {
                    await socket.SendAsync(preamble.AsMemory(i, 1), SocketFlags.None);
                }
                catch (SocketException)
                {
                    // Refused and closed already.
                }
            }

            await Task.Delay(1000);
        }
    }
}

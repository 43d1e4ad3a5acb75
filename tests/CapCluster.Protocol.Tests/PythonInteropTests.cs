using System.Diagnostics;
using System.Net;
using System.Text.Json;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Protocol.Tests;

/// <summary>Interop with a standard gRPC implementation (python3-grpcio), both directions, over mutual TLS.</summary>
public sealed class PythonInteropTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [PythonFact]
    public async Task PythonClient_CallsOurServer_UnaryDuplexAndErrorStatuses()
    {
        var router = new GrpcRouter();
        router.MapUnary(TestService.Ping, (request, _) =>
            Task.FromResult(new Pong { EngineId = request.EngineId + 1, Payload = ByteString.CopyFromUtf8(request.Payload.ToStringUtf8() + " back") }));
        router.MapDuplex(TestService.PingStream, async (requests, writer, context) =>
        {
            await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
            {
                await writer.WriteAsync(new Pong { EngineId = request.EngineId * 2 }, context.CancellationToken);
            }
        });
        string? seenCertificate = null;
        var authorizer = new DelegateAuthorizer(context =>
        {
            seenCertificate = context.ClientCertificate?.Thumbprint;
            return context.GetRequestHeader("authorization") == "Capability good"
                ? ValueTask.CompletedTask
                : throw new RpcException(new Status(StatusCode.PermissionDenied, "capability cap-42 is revoked \u2014 ask for a new one (100%)"));
        });
        await using var server = await TestServer.StartAsync(router, authorizer);
        var dir = PythonGrpc.WritePem(TestCertificates.Main.Ca, TestCertificates.Main.Client);

        var output = await PythonGrpc.RunAsync(dir, PythonScripts.Client, Timeout, server.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("hello back", root.GetProperty("unary").GetProperty("payload").GetString());
        Assert.Equal(42, root.GetProperty("unary").GetProperty("id").GetInt32());
        Assert.Equal(Enumerable.Range(0, 100).Select(i => i * 2), root.GetProperty("bidi").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("PERMISSION_DENIED", root.GetProperty("refused").GetProperty("code").GetString());
        Assert.Equal("capability cap-42 is revoked \u2014 ask for a new one (100%)", root.GetProperty("refused").GetProperty("details").GetString());
        Assert.Equal("UNIMPLEMENTED", root.GetProperty("missing").GetProperty("code").GetString());
        Assert.Equal(TestCertificates.Main.Client.Thumbprint, seenCertificate);
    }

    [PythonFact]
    public async Task OurChannel_CallsPythonServer_UnaryServerStreamingAndErrorStatus()
    {
        await using var python = await PythonServer.StartAsync();
        using var channel = TestServer.CreateChannel(new DnsEndPoint("127.0.0.1", python.Port), o => o.DefaultHeaders = [new("authorization", "Capability xyz")]);

        var reply = await channel.UnaryAsync(TestService.Ping, new Pong { EngineId = 1, Payload = ByteString.CopyFromUtf8("hi") }).WaitAsync(Timeout);
        using var stream = channel.ServerStreaming(TestService.PingMany, TestService.Message(500));
        var ids = new List<int>();
        await foreach (var message in stream.ResponseStream.ReadAllAsync().WithCancellation(CancellationToken.None))
        {
            ids.Add(message.EngineId);
        }

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestService.PingFail, TestService.Message(7)).WaitAsync(Timeout));

        Assert.Equal(2, reply.EngineId);
        Assert.Equal("hi|Capability xyz", reply.Payload.ToStringUtf8());
        Assert.Equal(Enumerable.Range(0, 500), ids);
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal("no engine 7 \u2014 it left (100%)", ex.Status.Detail);
    }

    [PythonFact]
    public async Task OurChannel_ClientCertificateRefusedByPythonServer_SaysCertificateNotAccepted()
    {
        await using var python = await PythonServer.StartAsync();
        var options = new GrpcChannelOptions
        {
            ClientCertificate = TestCertificates.Other.Client,
            LoggerFactory = FileLoggerProvider.FromEnvironment(),
            ValidateServerCertificate = (certificate, _, _) => TestCertificates.Main.ChainsToCa(certificate),
        };
        using var channel = new GrpcChannel([new DnsEndPoint("127.0.0.1", python.Port)], options);

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestService.Ping, TestService.Message(1)).WaitAsync(Timeout));

        // The cause goes into the failure message: when this fails, the chain of exceptions is what tells why.
        Assert.True(
            ex.StatusCode == StatusCode.Unavailable && ex.Status.Detail.Contains("refused by the controller (certificate not accepted)", StringComparison.Ordinal),
            $"{ex.Status}\n{ex.Status.DebugException}");
    }

    private sealed class PythonServer : IAsyncDisposable
    {
        private readonly Process _process;

        private PythonServer(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static async Task<PythonServer> StartAsync()
        {
            var dir = PythonGrpc.WritePem(TestCertificates.Main.Ca, TestCertificates.Main.Server);
            var process = Process.Start(PythonGrpc.StartInfo(dir, PythonScripts.Server))!;
            var stderr = process.StandardError.ReadToEndAsync();
            var line = await process.StandardOutput.ReadLineAsync().WaitAsync(Timeout);
            if (!int.TryParse(line, out var port))
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"python server did not start: {line} {await stderr}");
            }

            return new PythonServer(process, port);
        }

        public async ValueTask DisposeAsync()
        {
            _process.StandardInput.Close();
            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using CapCluster;
using CapCluster.Client;
using CapCluster.Connection;
using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

// Usage: CapCluster.Integration.Tests.Client COMMAND CAP [ARG]
//   ids CAP [N]             "ids 0,1" (with N: once there are N engines, or after 60 s) (multiengine)
//   execute CAP CODE        "result <engine> <value>" per engine   (multiengine)
//   roundtrip CAP MIB       pushes MIB MiB of random bytes to every engine and pulls them back: "roundtrip <engine> equal|differs" (multiengine)
//   tasks CAP N             "task <id> <engine> <y>" per task, y = 2x for x in 0..N-1 (task)
//   multiengine-check CAP   raw MultiEngine GetIds with any .cap: "accepted ids ..." or "refused <StatusCode> <detail>"
//   poll-until-refused CAP  "polling" after its first accepted call, then QueueStatus in a loop until the
//                           controller refuses: "refused <ms since the last accepted call> <reason>" (task)
// Exit codes: 0 ok, 1 refused, unreachable or failed (the error on stderr, "error <Type>: <message>"), 2 usage.
var timeout = TimeSpan.FromSeconds(60);
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: CapCluster.Integration.Tests.Client ids|execute|roundtrip|tasks|multiengine-check|poll-until-refused CAP [ARG]");
    return 2;
}

var (command, cap) = (args[0], args[1]);
try
{
    switch (command)
    {
        case "ids":
        {
            await using var client = await MultiEngineClient.ConnectAsync(cap).WaitAsync(timeout);
            var ids = await client.GetIdsAsync().WaitAsync(timeout);
            if (args.Length == 3)
            {
                // Engines register on their own schedule: wait (bounded) until there are as many as asked.
                var wanted = int.Parse(args[2], CultureInfo.InvariantCulture);
                var clock = Stopwatch.StartNew();
                while (ids.Count != wanted && clock.Elapsed < timeout)
                {
                    await Task.Delay(50);
                    ids = await client.GetIdsAsync().WaitAsync(timeout);
                }
            }

            Console.WriteLine("ids " + string.Join(",", ids));
            return 0;
        }

        case "execute" when args.Length == 3:
        {
            await using var client = await MultiEngineClient.ConnectAsync(cap).WaitAsync(timeout);
            foreach (var result in await client.ExecuteAsync(args[2]).GetAsync(timeout))
            {
                Console.WriteLine(FormattableString.Invariant($"result {result.EngineId} {result.ValueText.ReplaceLineEndings(" / ")}"));
            }

            return 0;
        }

        case "roundtrip" when args.Length == 3 && int.TryParse(args[2], CultureInfo.InvariantCulture, out var mebibytes):
        {
            await using var client = await MultiEngineClient.ConnectAsync(cap).WaitAsync(timeout);
            var data = System.Security.Cryptography.RandomNumberGenerator.GetBytes(mebibytes * 1024 * 1024);
            var ids = await client.GetIdsAsync().WaitAsync(timeout);
            await client.PushAsync("roundtrip", data, ids).GetAsync(timeout);
            var pulled = await client.PullAsync<byte[]>("roundtrip", ids).GetAsync(timeout);
            foreach (var (id, value) in ids.Zip(pulled))
            {
                Console.WriteLine(FormattableString.Invariant($"roundtrip {id} {(value.AsSpan().SequenceEqual(data) ? "equal" : "differs")}"));
            }

            return 0;
        }

        case "tasks" when args.Length == 3 && int.TryParse(args[2], CultureInfo.InvariantCulture, out var count):
        {
            await using var tasks = await TaskClient.ConnectAsync(cap).WaitAsync(timeout);
            var batch = Enumerable.Range(0, count)
                .Select(i => (TaskDefinition)new CodeTask("var y = x * 2;") { Push = new Dictionary<string, object?> { ["x"] = i }, Pull = ["y"] })
                .ToList();
            var ids = await tasks.RunAsync(batch).WaitAsync(timeout);
            foreach (var outcome in await tasks.BarrierAsync(ids).WaitAsync(timeout))
            {
                Console.WriteLine(FormattableString.Invariant($"task {outcome.TaskId} {outcome.EngineId} {outcome.Get<int>("y")}"));
            }

            return 0;
        }

        case "multiengine-check":
        {
            // Bypasses the client library's local interface check, so that the controller's gate decides.
            var file = CapabilityFile.Read(cap);
            var location = file.Url.Locations[0];
            using var channel = new GrpcChannel(
                [new DnsEndPoint(location.Host, location.Port)],
                new GrpcChannelOptions
                {
                    ClientCertificate = file.HolderCertificate,
                    ValidateServerCertificate = ControllerCertificateValidator.For(file.CaCertificate),
                    DefaultHeaders = [CapabilityMetadata.For(file.Url.Secret)],
                });
            try
            {
                var reply = await channel.UnaryAsync(CapClusterMethods.GetIds, new GetIdsRequest(), new CallOptions(deadline: DateTime.UtcNow.Add(timeout)));
                Console.WriteLine("accepted ids " + string.Join(",", reply.Ids));
                return 0;
            }
            catch (RpcException e)
            {
                Console.WriteLine($"refused {e.StatusCode} {e.Status.Detail.ReplaceLineEndings(" / ")}");
                return 1;
            }
        }

        case "poll-until-refused":
        {
            await using var tasks = await TaskClient.ConnectAsync(cap).WaitAsync(timeout);
            await tasks.QueueStatusAsync().WaitAsync(timeout);
            var sinceAccepted = Stopwatch.StartNew();
            Console.WriteLine("polling");
            using var deadline = new CancellationTokenSource(timeout);
            while (true)
            {
                try
                {
                    await tasks.QueueStatusAsync(deadline.Token).WaitAsync(timeout);
                    sinceAccepted.Restart();
                }
                catch (CapabilityRefusedException e)
                {
                    Console.WriteLine(FormattableString.Invariant($"refused {sinceAccepted.ElapsedMilliseconds} {e.Reason.ReplaceLineEndings(" / ")}"));
                    return 0;
                }
                catch (ControllerUnreachableException)
                {
                    // The call in flight when the controller closed the revoked connection; the next one is refused.
                }

                await Task.Delay(20, deadline.Token);
            }
        }

        default:
            Console.Error.WriteLine($"unknown command or arguments: {string.Join(' ', args)}");
            return 2;
    }
}
catch (Exception e) when (e is CapClusterException or TimeoutException or OperationCanceledException)
{
    Console.Error.WriteLine($"error {e.GetType().Name}: {e.Message.ReplaceLineEndings(" / ")}");
    return 1;
}

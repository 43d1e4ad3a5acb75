using System.Net.Sockets;
using CapCluster.Client;
using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Protocol.Values;

namespace CapCluster.Integration.Tests;

/// <summary>The MultiEngine interface on real engines: one cluster of 4 for the whole class.</summary>
public sealed class MultiEngineTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private RunningCluster cluster = null!;

    private MultiEngineClient Mec => cluster.Client;

    public async Task InitializeAsync() => cluster = await RunningCluster.StartAsync(4);

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task HelloWorld_PrintsLikeTheSeed_OnEachEngine()
    {
        Assert.Equal([0, 1, 2, 3], await Mec.GetIdsAsync().WaitAsync(Timeout));

        var results = await Mec.ExecuteAsync("Console.WriteLine(\"Hello World\")").GetAsync(Timeout);

        Assert.Equal(4, results.Count);
        var text = results.ToString();
        foreach (var id in new[] { 0, 1, 2, 3 })
        {
            var n = results.Single(r => r.EngineId == id).ExecutionCount;
            Assert.Contains($"[{id}] In [{n}]: Console.WriteLine(\"Hello World\")", text);
            Assert.Contains($"[{id}] Out[{n}]: Hello World", text);
        }
    }

    [Fact]
    public async Task APullOnlyHolder_ConnectsWithTheClientLibrary_AndAPullOfAMissingNameTellsItNothingOfTheNamesThatAre()
    {
        await Mec.PushAsync("theOwnersSecretName", 1, [0]).GetAsync(Timeout);
        var pullOnly = Path.Combine(cluster.Directory.BaseFolder, "pull-only.cap");
        var attenuate = await cluster.Directory.RunAsync("furlgen", "attenuate", cluster.Directory.CapFile(Security.CapabilityInterfaces.MultiEngine),
            "--label", "pull-only", "--methods", "Pull", "-o", pullOnly);
        Assert.True(attenuate.ExitCode == 0, attenuate.ToString());

        // Connecting asks only whether the capability is accepted (Check), not for a method it may not call.
        await using var puller = await MultiEngineClient.ConnectAsync(pullOnly).WaitAsync(Timeout);
        Assert.Equal([1], await puller.PullAsync<int>("theOwnersSecretName", [0]).GetAsync(Timeout));
        var missing = await Assert.ThrowsAnyAsync<CapClusterException>(() => puller.PullAsync<int>("nothing", [0]).GetAsync(Timeout));
        Assert.Contains("'nothing' is not defined on engine 0", missing.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("theOwnersSecretName", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task State_PersistsAcrossExecutes_KeysListsIt_ResetClearsIt()
    {
        await Mec.ExecuteAsync("var counter = 40; record Point(int X, int Y);").GetAsync(Timeout);
        var results = await Mec.ExecuteAsync("counter + 2").GetAsync(Timeout);
        Assert.All(results, r => Assert.Equal(42, Convert.ToInt32(r.Value)));
        Assert.All(await Mec.ExecuteAsync("new Point(1, 2).X + counter").GetAsync(Timeout), r => Assert.Equal("41", r.ValueText));

        var keys = await Mec.KeysAsync().GetAsync(Timeout);
        Assert.All(keys.Values, k => Assert.Contains("counter", k));

        await Mec.ResetAsync().GetAsync(Timeout);
        Assert.All((await Mec.KeysAsync().GetAsync(Timeout)).Values, k => Assert.DoesNotContain("counter", k));
        var error = await Assert.ThrowsAsync<CompositeRemoteException>(() => Mec.ExecuteAsync("counter").GetAsync(Timeout));
        Assert.Equal(4, error.Errors.Count);
    }

    [Fact]
    public async Task JsonValueNamingATypeTheReceiverDidNotAgreeTo_ArrivesAsJsonElement_BothWays()
    {
        // The client sends a StringBuilder's JSON under its type name: the engine does not build one.
        await Mec.PushAsync("sb", new System.Text.StringBuilder("hi", 64)).GetAsync(Timeout);
        Assert.All(await Mec.ExecuteAsync("sb.GetType().Name").GetAsync(Timeout), r => Assert.Equal("JsonElement", r.ValueText));

        // The engine's values, typed by its own code, reach the client as JSON unless the client asks for a type.
        await Mec.ExecuteAsync("record Spot(int X); var spot = new Spot(5); var builder = new System.Text.StringBuilder(\"x\");").GetAsync(Timeout);
        Assert.All(await Mec.PullAsync<object?>("builder").GetAsync(Timeout), v => Assert.IsType<System.Text.Json.JsonElement>(v));
        Assert.All(await Mec.ExecuteAsync("spot.X + 1").GetAsync(Timeout), r => Assert.Equal("6", r.ValueText));
        Assert.All(await Mec.PullAsync<Spot>("spot").GetAsync(Timeout), v => Assert.Equal(new Spot(5), v));
    }

    [Fact]
    public async Task PushPull_EveryValueKind_RoundTrips()
    {
        var matrix = new double[,] { { 1.5, 2.5, 3.5 }, { 4.5, 5.5, double.NaN } };
        var values = new Dictionary<string, object?>
        {
            ["n"] = null,
            ["flag"] = true,
            ["i"] = 42,
            ["big"] = long.MaxValue,
            ["u"] = ulong.MaxValue,
            ["d"] = 3.25,
            ["f"] = 1.5f,
            ["m"] = 12.345m,
            ["s"] = "héllo",
            ["bytes"] = new byte[] { 1, 2, 3, 255 },
            ["ints"] = new[] { 1, 2, 3 },
            ["matrix"] = matrix,
            ["list"] = new List<object?> { 1, "two", 3.0 },
            ["dict"] = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 },
            ["tuple"] = (1, "x", 2.5),
        };

        await Mec.PushAsync(values, [0, 1]).GetAsync(Timeout);

        Assert.All(await Mec.PullAsync<object?>("n", [0, 1]).GetAsync(Timeout), Assert.Null);
        Assert.Equal([true, true], await Mec.PullAsync<bool>("flag", [0, 1]).GetAsync(Timeout));
        Assert.Equal([42, 42], await Mec.PullAsync<int>("i", [0, 1]).GetAsync(Timeout));
        Assert.Equal(long.MaxValue, (await Mec.PullAsync<long>("big", [0]).GetAsync(Timeout))[0]);
        Assert.Equal(ulong.MaxValue, (await Mec.PullAsync<ulong>("u", [0]).GetAsync(Timeout))[0]);
        Assert.Equal(3.25, (await Mec.PullAsync<double>("d", [0]).GetAsync(Timeout))[0]);
        Assert.Equal(1.5f, (await Mec.PullAsync<float>("f", [0]).GetAsync(Timeout))[0]);
        Assert.Equal(12.345m, (await Mec.PullAsync<decimal>("m", [0]).GetAsync(Timeout))[0]);
        Assert.Equal("héllo", (await Mec.PullAsync<string>("s", [1]).GetAsync(Timeout))[0]);
        Assert.Equal(new byte[] { 1, 2, 3, 255 }, (await Mec.PullAsync<byte[]>("bytes", [0]).GetAsync(Timeout))[0]);
        Assert.Equal(new[] { 1, 2, 3 }, (await Mec.PullAsync<int[]>("ints", [0]).GetAsync(Timeout))[0]);
        var pulled = (await Mec.PullAsync<double[,]>("matrix", [1]).GetAsync(Timeout))[0];
        Assert.Equal(matrix.GetLength(0), pulled.GetLength(0));
        Assert.Equal(matrix.GetLength(1), pulled.GetLength(1));
        Assert.Equal(matrix.Cast<double>(), pulled.Cast<double>());
        Assert.Equal(new List<object?> { 1, "two", 3.0 }, (await Mec.PullAsync<List<object?>>("list", [0]).GetAsync(Timeout))[0]);
        Assert.Equal(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }, (await Mec.PullAsync<Dictionary<string, int>>("dict", [0]).GetAsync(Timeout))[0]);
        Assert.Equal((1, "x", 2.5), (await Mec.PullAsync<(int, string, double)>("tuple", [0]).GetAsync(Timeout))[0]);

        // Pushed values are variables of their own types in engine code.
        var sum = await Mec.ExecuteAsync("ints.Sum() + matrix[0, 1]", [0]).GetAsync(Timeout);
        Assert.Equal("8.5", sum[0].ValueText);
    }

    [Fact]
    public async Task PushPull_256MiBArray_IsEqualOnReturn()
    {
        var data = new double[32 * 1024 * 1024];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = i * 0.5;
        }

        var push = Mec.PushAsync("big", data, [2]);
        await push.WaitForSendAsync().WaitAsync(Timeout);
        Assert.True(push.Sent);
        await push.GetAsync(Timeout);

        var back = (await Mec.PullAsync<double[]>("big", [2]).GetAsync(Timeout))[0];
        Assert.Equal(data.Length, back.Length);
        Assert.True(data.AsSpan().SequenceEqual(back), "the pulled array differs from the pushed one");
        await Mec.ExecuteAsync("big = null;", [2]).GetAsync(Timeout);
    }

    [Fact]
    public async Task PushPull_OneGiB_TravelsInChunks_AndIsEqualOnReturn()
    {
        // Far past the 64 MiB message limit: only chunked transfer can carry it.
        var data = new byte[1 << 30];
        for (var i = 0; i < data.Length; i += 4096)
        {
            data[i] = (byte)(i / 4096);
        }

        data[^1] = 0xAB;
        await Mec.PushAsync("gib", data, [3]).GetAsync(Timeout * 3);
        Assert.Equal(["1073741824"], (await Mec.ExecuteAsync("gib.Length", [3]).GetAsync(Timeout)).Select(r => r.ValueText));

        var back = (await Mec.PullAsync<byte[]>("gib", [3]).GetAsync(Timeout * 3))[0];
        Assert.True(data.AsSpan().SequenceEqual(back), "the pulled GiB differs from the pushed one");
        await Mec.ExecuteAsync("gib = null; GC.Collect();", [3]).GetAsync(Timeout);
    }

    [Fact]
    public async Task ScatterGather_TenMillionAndOneDoubles_OverThreeEngines()
    {
        var data = Enumerable.Range(0, 10_000_001).Select(i => (double)i).ToArray();

        await Mec.ScatterAsync("part", data, [0, 1, 2]).WaitAsync(Timeout);

        var lengths = await Mec.ExecuteAsync("part.Length", [0, 1, 2]).GetAsync(Timeout);
        Assert.Equal(["3333334", "3333334", "3333333"], lengths.Select(r => r.ValueText));
        var firsts = await Mec.ExecuteAsync("part[0]", [0, 1, 2]).GetAsync(Timeout);
        Assert.Equal(["0", "3333334", "6666668"], firsts.Select(r => r.ValueText));
        var back = await Mec.GatherAsync<double[]>("part", [0, 1, 2]).WaitAsync(Timeout);
        Assert.True(data.AsSpan().SequenceEqual(back));
        await Mec.ExecuteAsync("part = null;", [0, 1, 2]).GetAsync(Timeout);
    }

    [Fact]
    public async Task RuntimeAndCompileErrors_ComeBackWithEngineIdAndLine_AndTheEngineStaysUsable()
    {
        var runtime = await Assert.ThrowsAsync<RemoteException>(() =>
            Mec.ExecuteAsync("var a = 1;\nthrow new InvalidOperationException(\"boom\");", [3]).GetAsync(Timeout));
        Assert.Equal(3, runtime.EngineId);
        Assert.Equal("System.InvalidOperationException", runtime.RemoteType);
        Assert.Equal("boom", runtime.RemoteMessage);
        Assert.Equal(2, runtime.Line);
        Assert.Contains(":line 2", runtime.RemoteStackTrace);

        var compile = await Assert.ThrowsAsync<RemoteException>(() =>
            Mec.ExecuteAsync("var ok = 1;\nvar x = undefinedName + 1;", [3]).GetAsync(Timeout));
        Assert.True(compile.IsCompileError);
        Assert.Equal(2, compile.Line);
        Assert.Contains("undefinedName", compile.Message);

        Assert.Equal("2", (await Mec.ExecuteAsync("1 + 1", [3]).GetAsync(Timeout))[0].ValueText);
    }

    [Fact]
    public async Task Apply_LambdaCapturingIntAndArray_RunsOnEveryEngine_SocketCaptureIsRefused()
    {
        var factor = 3;
        var data = new[] { 1.0, 2.0, 3.5 };
        using var sock = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Func<int, double> uses = x => x * factor + data.Sum();
        Func<int> usesSocket = () => sock.Available;

        var results = await Mec.ApplyAsync(uses, 2).GetAsync(Timeout);

        Assert.Equal([12.5, 12.5, 12.5, 12.5], results);
        var error = Assert.ThrowsAny<Exception>(() => Mec.ApplyAsync(usesSocket));
        Assert.IsType<UnsendableValueException>(error);
        Assert.Contains("sock", error.Message);
        Assert.Contains("System.Net.Sockets.Socket", error.Message);
    }

    [Fact]
    public async Task Apply_DelegateHeldInACapturedVariable_ShipsWithItsOwnValues_ALargeOneAsABlobOfTheCall()
    {
        var weights = Enumerable.Range(0, 1 << 20).Select(i => (double)(i % 3)).ToArray();
        Func<int, double> weigh = i => weights[i] * 2;
        Func<int, int> square = x => x * x;

        var results = await Mec.ApplyAsync((int i) => weigh(i) + square(i) + weights.Length, 5).GetAsync(Timeout);

        Assert.Equal([4.0 + 25 + (1 << 20), 4.0 + 25 + (1 << 20), 4.0 + 25 + (1 << 20), 4.0 + 25 + (1 << 20)], results);
    }

    [Fact]
    public async Task Map_OverEngines_KeepsInputOrder()
    {
        var offset = 0.5;
        var results = await Mec.MapAsync((int x) => x * 2 + offset, Enumerable.Range(0, 103)).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(0, 103).Select(x => x * 2 + 0.5), results);
    }

    [Fact]
    public async Task AsyncLambdas_AreAwaitedOnTheEngines_TheirResultsTyped()
    {
        var mapped = await Mec.MapAsync(async (int x) => { await Task.Yield(); return x + 1; }, Enumerable.Range(0, 9)).WaitAsync(Timeout);
        var applied = await Mec.ApplyAsync(async (int x) => { await Task.Delay(1); return $"{x}!"; }, 4).GetAsync(Timeout);

        Assert.Equal(Enumerable.Range(1, 9), mapped);
        Assert.Equal(["4!", "4!", "4!", "4!"], applied);
    }

    [Fact]
    public async Task TwoClients_CallsAreServedInArrivalOrderPerEngine_NoneLost()
    {
        await using var other = await cluster.ConnectAnotherAsync();
        await Mec.ExecuteAsync("var log = new List<string>();", [1]).GetAsync(Timeout);

        var calls = new List<Task>();
        for (var i = 0; i < 50; i++)
        {
            calls.Add(Mec.ExecuteAsync($"log.Add(\"a{i}\");", [1]).AsTask());
            calls.Add(other.ExecuteAsync($"log.Add(\"b{i}\");", [1]).AsTask());
        }

        await Task.WhenAll(calls).WaitAsync(Timeout);
        var log = (await Mec.PullAsync<List<string>>("log", [1]).GetAsync(Timeout))[0];
        Assert.Equal(100, log.Count);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"a{i}"), log.Where(s => s[0] == 'a'));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"b{i}"), log.Where(s => s[0] == 'b'));

        // Disposing twice (here, and again where `await using` ends) does nothing the second time.
        await other.DisposeAsync();
    }

    [Fact]
    public async Task QueueStatus_ClearQueue_OfItsOwnCallsAndItsDelegates_AndHistory()
    {
        var delegatePath = Path.Combine(cluster.Directory.BaseFolder, "queue-clearer.cap");
        var attenuate = await cluster.Directory.RunAsync("furlgen", "attenuate", cluster.Directory.CapFile(Security.CapabilityInterfaces.MultiEngine),
            "--label", "queue-clearer", "--methods", "Execute,ClearQueue,EngineQueues", "-o", delegatePath);
        Assert.True(attenuate.ExitCode == 0, attenuate.ToString());
        await using var collaborator = await MultiEngineClient.ConnectAsync(delegatePath).WaitAsync(Timeout);

        var slow = Mec.ExecuteAsync("System.Threading.Thread.Sleep(3000); 1", [0]);
        Assert.Equal((1, 0), await QueueOfEngineZeroAsync((1, 0)));
        var queued = Mec.ExecuteAsync("2", [0]);
        var theirs = collaborator.ExecuteAsync("3", [0]);
        Assert.Equal((1, 2), await QueueOfEngineZeroAsync((1, 2)));

        // A collaborator's ClearQueue drops its own calls only; the owner's drops its own and those of capabilities derived from it.
        Assert.Equal(1, await collaborator.ClearQueueAsync([0]).WaitAsync(Timeout));
        await Assert.ThrowsAsync<EngineLostException>(() => theirs.GetAsync(Timeout));
        Assert.Equal(1, (await Mec.QueueStatusAsync([0]).WaitAsync(Timeout))[0].Queued);
        var theirsAgain = collaborator.ExecuteAsync("4", [0]);
        Assert.Equal(2, await Mec.ClearQueueAsync([0]).WaitAsync(Timeout));
        await Assert.ThrowsAsync<EngineLostException>(() => queued.GetAsync(Timeout));
        await Assert.ThrowsAsync<EngineLostException>(() => theirsAgain.GetAsync(Timeout));
        var first = (await slow.GetAsync(Timeout))[0];

        var history = (await Mec.GetResultAsync(first.ExecutionCount, [0]).GetAsync(Timeout))[0];
        Assert.Equal(first.Code, history.Code);
        Assert.True(slow.Metadata[0].Completed >= slow.Metadata[0].Started);
    }

    /// <summary>Engine 0's (running, queued) once it is <paramref name="expected"/>, or as it is when the slow call would have ended.</summary>
    private async Task<(int Running, int Queued)> QueueOfEngineZeroAsync((int, int) expected)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var status = (await Mec.QueueStatusAsync([0]).WaitAsync(Timeout))[0];
            if ((status.Running, status.Queued) == expected || clock.Elapsed > TimeSpan.FromSeconds(2.5))
            {
                return (status.Running, status.Queued);
            }
        }
    }

    [Fact]
    public async Task EngineProperties_SetGetHasDeleteClear()
    {
        await Mec.SetPropertiesAsync(new Dictionary<string, string> { ["gpu"] = "no", ["site"] = "lab" }, [0]).GetAsync(Timeout);
        Assert.Equal("lab", (await Mec.GetPropertiesAsync(["site"], [0]).GetAsync(Timeout))[0]["site"]);
        Assert.True((await Mec.HasPropertyAsync("gpu", [0]).WaitAsync(Timeout))[0]);
        await Mec.DeletePropertiesAsync(["gpu"], [0]).GetAsync(Timeout);
        Assert.False((await Mec.HasPropertyAsync("gpu", [0]).WaitAsync(Timeout))[0]);
        await Mec.ClearPropertiesAsync([0]).GetAsync(Timeout);
        Assert.Empty((await Mec.GetPropertiesAsync(null, [0]).GetAsync(Timeout))[0]);
    }

    [Fact]
    public async Task RunFile_ExecutesItsCodeOnTheTargets()
    {
        var file = Path.Combine(cluster.Directory.BaseFolder, "setup.csx");
        await File.WriteAllTextAsync(file, "var fromFile = 5;\nfromFile * 3");

        var results = await Mec.RunAsync(file, [0, 1]).GetAsync(Timeout);

        Assert.Equal(["15", "15"], results.Select(r => r.ValueText));
        Assert.Equal([5, 5], await Mec.PullAsync<int>("fromFile", [0, 1]).GetAsync(Timeout));
    }
}

public sealed record Spot(int X);

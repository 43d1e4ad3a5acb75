using System.Diagnostics;
using System.Text.Json;
using CapCluster.Integration.Tests.Infrastructure;

namespace CapCluster.Integration.Tests;

/// <summary>Component logs in compact JSON lines (<c>--log-format json</c>, the default), read from a real controller's file.</summary>
public sealed class LogTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task JsonLog_HasACompactJsonLineForEachEngineRegistration_WithTheEnginesIdAndPid()
    {
        await using var cluster = await RunningCluster.StartAsync(2, "--log-format", "json");
        var engines = await cluster.Client.GetEnginesAsync().WaitAsync(Timeout);
        var file = ControllerLog(cluster);
        var controllerPid = int.Parse(Path.GetFileNameWithoutExtension(file)["capcontroller-".Length..], System.Globalization.CultureInfo.InvariantCulture);

        foreach (var engine in engines)
        {
            var registered = await WaitForEventAsync(file, e => EventName(e) == "EngineRegistered" && e.GetProperty("EngineId").GetInt32() == engine.Id);

            Assert.Equal("Engine {EngineId} registered from {Peer} (host {Host}, pid {EnginePid})", registered.GetProperty("@mt").GetString());
            Assert.Equal(engine.Pid, registered.GetProperty("EnginePid").GetInt32());
            Assert.Contains("127.0.0.1:", registered.GetProperty("Peer").GetString(), StringComparison.Ordinal);
            Assert.Equal("capcontroller", registered.GetProperty("Component").GetString());
            Assert.Equal(controllerPid, registered.GetProperty("Pid").GetInt32());
            Assert.InRange(registered.GetProperty("@t").GetDateTimeOffset(), DateTimeOffset.UtcNow - Timeout, DateTimeOffset.UtcNow);
        }
    }

    private static string ControllerLog(RunningCluster cluster) =>
        Directory.GetFiles(cluster.Directory.Paths().LogFolder, "capcontroller-*.log").Single();

    private static string? EventName(JsonElement e) =>
        e.TryGetProperty("EventId", out var id) && id.TryGetProperty("Name", out var name) ? name.GetString() : null;

    /// <summary>
    /// The first event of the file that matches, once the controller has written it. Every line must be one JSON
    /// object: a line of any other format fails the test.
    /// </summary>
    private static async Task<JsonElement> WaitForEventAsync(string file, Func<JsonElement, bool> match)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            foreach (var line in File.ReadAllLines(file))
            {
                using var json = JsonDocument.Parse(line);
                if (match(json.RootElement))
                {
                    return json.RootElement.Clone();
                }
            }

            if (clock.Elapsed > Timeout)
            {
                throw new TimeoutException($"no such event in {file} within {Timeout}:\n{File.ReadAllText(file)}");
            }

            await Task.Delay(50);
        }
    }
}

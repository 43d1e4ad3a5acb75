using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace CapCluster.Hosting.Tests;

public sealed partial class ComponentLoggingTests : IDisposable
{
    private const string Component = "capengine-logtest";
    private readonly string folder = Directory.CreateTempSubdirectory("capcluster-logs-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Create_Json_WritesOneCompactJsonLinePerEvent_WithComponentPidTimeTemplateAndProperties()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        WriteOneEvent(LogFormat.Json);

        var line = Assert.Single(File.ReadAllLines(ComponentLogging.FileFor(folder, Component, Environment.ProcessId)));
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("Task {TaskId} of {Owner} retried", root.GetProperty("@mt").GetString());
        Assert.Equal(42, root.GetProperty("TaskId").GetInt64());
        Assert.Equal("cap-1", root.GetProperty("Owner").GetString());
        Assert.Equal(Component, root.GetProperty("Component").GetString());
        Assert.Equal(Environment.ProcessId, root.GetProperty("Pid").GetInt32());
        Assert.Equal(typeof(ComponentLoggingTests).FullName, root.GetProperty("SourceContext").GetString());
        Assert.Equal("Warning", root.GetProperty("@l").GetString());
        Assert.InRange(root.GetProperty("@t").GetDateTimeOffset(), before, DateTimeOffset.UtcNow.AddSeconds(1));
    }

    [Fact]
    public void Create_Text_WritesTheReadableLine()
    {
        WriteOneEvent(LogFormat.Text);

        var line = Assert.Single(File.ReadAllLines(ComponentLogging.FileFor(folder, Component, Environment.ProcessId)));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d \[WRN\] " + typeof(ComponentLoggingTests).FullName!.Replace(".", @"\.", StringComparison.Ordinal) + ": Task 42 of cap-1 retried$", line);
    }

    [Fact]
    public void Readable_AJsonLine_IsTheLineTheTextFormatWrites()
    {
        WriteOneEvent(LogFormat.Json);
        var json = File.ReadAllLines(ComponentLogging.FileFor(folder, Component, Environment.ProcessId)).Single();
        File.Delete(ComponentLogging.FileFor(folder, Component, Environment.ProcessId));
        WriteOneEvent(LogFormat.Text);
        var text = File.ReadAllLines(ComponentLogging.FileFor(folder, Component, Environment.ProcessId)).Single();

        // Equal but for the milliseconds between the two events.
        Assert.Equal(text[23..], LogLines.Readable(json)[23..]);
        Assert.Equal(text, LogLines.Readable(text));
    }

    [Theory]
    [InlineData("""{"@t":"2026-12-04T08:00:00.1234567Z","@mt":"Took {Elapsed:0.0} s for {{braces}} and {Missing}","@r":["1.5"],"@l":"Error","@x":"System.Exception: boom\n   at Here()","Elapsed":1.4999,"SourceContext":"S"}""",
        "<2026-12-04T08:00:00.1234567Z> [ERR] S: Took 1.5 s for {braces} and {Missing}\nSystem.Exception: boom\n   at Here()")]
    [InlineData("""{"@t":"2026-12-04T08:00:00.5+02:00","@m":"Already rendered","Values":[1,2]}""", "<2026-12-04T08:00:00.5+02:00> [INF] ?: Already rendered")]
    [InlineData("""{"@mt":"no time"}""", """{"@mt":"no time"}""")]
    [InlineData("{not json", "{not json")]
    [InlineData("   at Some.Stack.Frame()", "   at Some.Stack.Frame()")]
    public void Readable_RendersCompactJson_AndLeavesEverythingElseAlone(string line, string expected) =>
        Assert.Equal(InLocalTime(expected), LogLines.Readable(line));

    /// <summary>A leading <c>&lt;time&gt;</c> as the text format writes it: in this machine's time zone, to the millisecond.</summary>
    private static string InLocalTime(string expected) =>
        expected.StartsWith('<') && expected.IndexOf('>', StringComparison.Ordinal) is var end and > 0
            ? DateTimeOffset.Parse(expected[1..end], System.Globalization.CultureInfo.InvariantCulture).ToLocalTime()
                .ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", System.Globalization.CultureInfo.InvariantCulture) + expected[(end + 1)..]
            : expected;

    [Fact]
    public void LogFormatOption_AChoice_IsThatFormat()
    {
        Assert.Equal(LogFormat.Json, LogFormatOption.Parse("json"));
        Assert.Equal(LogFormat.Text, LogFormatOption.Parse("text"));
    }

    [Theory]
    [InlineData("xml")]
    [InlineData("JSON")]
    [InlineData("")]
    public void LogFormatOption_AnythingElse_FailsInOneLineNamingTheOptionAndTheChoices(string value)
    {
        var e = Assert.Throws<CapClusterException>(() => LogFormatOption.Parse(value));
        Assert.Equal($"--log-format {value}: not a log format; choose json or text", e.Message);
    }

    [Fact]
    public void Create_TheLibrariesInformation_IsLeftOut_TheirWarningsKept()
    {
        using (var factory = ComponentLogging.Create(Component, folder))
        {
            // What grpc-dotnet logs when a client leaves during a call: a line and the stack of the read it broke.
            factory.CreateLogger("Grpc.AspNetCore.Server.ServerCallHandler").LogInformation(new IOException("The client reset the request stream."), "Error reading message.");
            factory.CreateLogger("Microsoft.AspNetCore.Server.Kestrel").LogInformation("Connection id \"{Id}\" reset", "0HN");
            factory.CreateLogger("Grpc.AspNetCore.Server.ServerCallHandler").LogWarning("Request deadline exceeded.");
        }

        var line = Assert.Single(File.ReadAllLines(ComponentLogging.FileFor(folder, Component, Environment.ProcessId)));
        Assert.Contains("Request deadline exceeded.", line, StringComparison.Ordinal);
    }

    private void WriteOneEvent(LogFormat format)
    {
        using var factory = ComponentLogging.Create(Component, folder, format);
        Retried(factory.CreateLogger<ComponentLoggingTests>(), 42, "cap-1");
    }

    [LoggerMessage(1, LogLevel.Warning, "Task {TaskId} of {Owner} retried")]
    private static partial void Retried(ILogger logger, long taskId, string owner);
}

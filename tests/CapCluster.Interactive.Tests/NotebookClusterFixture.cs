using CapCluster.Integration.Tests.Infrastructure;
using CapCluster.Security;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;

namespace CapCluster.Interactive.Tests;

/// <summary>A real controller with two real engines (the Release binaries), shared by the tests of one collection.</summary>
public sealed class NotebookClusterFixture : IAsyncLifetime
{
    private RunningCluster? cluster;

    internal RunningCluster Cluster => cluster ?? throw new InvalidOperationException("the cluster has not started");

    public string MultiEngineCap => Cluster.Directory.CapFile(CapabilityInterfaces.MultiEngine);

    public async Task InitializeAsync() => cluster = await RunningCluster.StartAsync(2);

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }

    /// <summary>A notebook's kernels (composite + C#) with the extension loaded and connected to this cluster.</summary>
    public async Task<CompositeKernel> NotebookAsync()
    {
        var kernel = new CompositeKernel { new CSharpKernel() };
        kernel.DefaultKernelName = "csharp";
        await new CapClusterKernelExtension().OnLoadAsync(kernel);
        var connected = await Notebook.RunAsync(kernel, $"#!connect-cluster --cap {MultiEngineCap}");
        Notebook.AssertSucceeded(connected);
        return kernel;
    }
}

[CollectionDefinition(Name)]
public sealed class NotebookClusterCollection : ICollectionFixture<NotebookClusterFixture>
{
    public const string Name = "a 2-engine cluster";
}

/// <summary>Running cells and reading what they showed.</summary>
internal static class Notebook
{
    private static readonly TimeSpan CellTimeout = TimeSpan.FromSeconds(90);

    public static Task<KernelCommandResult> RunAsync(Kernel kernel, string cell) =>
        kernel.SendAsync(new SubmitCode(cell)).WaitAsync(CellTimeout);

    public static void AssertSucceeded(KernelCommandResult result) =>
        Assert.True(
            result.Events.OfType<CommandFailed>().FirstOrDefault() is null,
            "the cell failed: " + result.Events.OfType<CommandFailed>().FirstOrDefault()?.Message);

    public static string Failure(KernelCommandResult result) =>
        Assert.Single(result.Events.OfType<CommandFailed>()).Message;

    /// <summary>What the cell shows at its end, in one mime type: each display in its last version, then any return value.</summary>
    public static string Shown(KernelCommandResult result, string mimeType = "text/plain")
    {
        var shown = new List<(string Id, string Text)>();
        foreach (var e in result.Events.OfType<DisplayEvent>())
        {
            var text = e.FormattedValues.FirstOrDefault(v => v.MimeType == mimeType)?.Value;
            if (text is null)
            {
                continue;
            }

            var index = e.ValueId is null ? -1 : shown.FindIndex(s => s.Id == e.ValueId);
            if (e is DisplayedValueUpdated && index >= 0)
            {
                shown[index] = (e.ValueId!, text);
            }
            else
            {
                shown.Add((e.ValueId ?? string.Empty, text));
            }
        }

        return string.Join('\n', shown.Select(s => s.Text));
    }
}

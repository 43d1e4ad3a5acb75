using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;

namespace CapCluster.Interactive.Tests;

/// <summary>#!connect-cluster in a real composite kernel with a real C# kernel, the way dotnet-interactive loads the extension.</summary>
public sealed class ConnectClusterTests
{
    [Fact]
    public async Task ConnectWithoutCapFileSaysWhereItLookedAndHowToStartACluster()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"capcluster-nb-{Guid.NewGuid():N}", "multiengine.cap");
        using var kernel = new CompositeKernel { new CSharpKernel() };
        kernel.DefaultKernelName = "csharp";
        await new CapClusterKernelExtension().OnLoadAsync(kernel);

        var result = await kernel.SendAsync(new SubmitCode($"#!connect-cluster --cap {missing}"));

        var failed = Assert.Single(result.Events.OfType<CommandFailed>());
        Assert.StartsWith("#!connect-cluster: no cluster:", failed.Message, StringComparison.Ordinal);
        Assert.Contains(missing, failed.Message, StringComparison.Ordinal);
        Assert.Contains("capcluster start", failed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", failed.Message, StringComparison.Ordinal);
    }
}

using CapCluster.Engine.Internal.Scripting;

namespace CapCluster.Engine.Tests.Scripting;

internal static class NamespaceTestExtensions
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Task<ExecutionOutcome> Run(this EngineNamespace ns, string code) =>
        ns.ExecuteAsync(code, CancellationToken.None).WaitAsync(Timeout);

    /// <summary>Runs code that must succeed and returns its value.</summary>
    public static async Task<object?> Eval(this EngineNamespace ns, string code)
    {
        var outcome = await ns.Run(code);
        Assert.True(outcome.Succeeded, $"{code}\n=> {outcome.Error}");
        return outcome.Value;
    }
}

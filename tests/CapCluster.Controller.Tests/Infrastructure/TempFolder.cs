namespace CapCluster.Controller.Tests.Infrastructure;

/// <summary>A folder of its own for one test (a task ledger, a registry, an audit log), deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("capcluster-controller-tests-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

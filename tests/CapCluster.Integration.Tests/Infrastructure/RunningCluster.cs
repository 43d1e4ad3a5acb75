using CapCluster.Client;
using CapCluster.Security;

namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>A controller with N engines under a throwaway folder, and a MultiEngineClient connected to it.</summary>
internal sealed class RunningCluster : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private RunningCluster(ClusterDirectory directory, MultiEngineClient client)
    {
        Directory = directory;
        Client = client;
    }

    public ClusterDirectory Directory { get; }

    public MultiEngineClient Client { get; }

    public static async Task<RunningCluster> StartAsync(int engines, params string[] controllerArguments)
    {
        var directory = new ClusterDirectory();
        await directory.StartControllerAsync(controllerArguments);
        for (var i = 0; i < engines; i++)
        {
            directory.Start("capengine");
        }

        var client = await MultiEngineClient.ConnectAsync(directory.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);
        await ClusterDirectory.WaitForEnginesAsync(client, engines, Timeout);
        return new RunningCluster(directory, client);
    }

    public Task<MultiEngineClient> ConnectAnotherAsync() =>
        MultiEngineClient.ConnectAsync(Directory.CapFile(CapabilityInterfaces.MultiEngine)).WaitAsync(Timeout);

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Directory.DisposeAsync();
    }
}

namespace CapCluster.Launcher.Internal;

/// <summary>What <c>capcluster start</c> was asked for.</summary>
internal sealed record StartOptions(
    int Engines,
    string? Profile,
    int EnginePort,
    int ClientPort,
    string? ListenAddress,
    IReadOnlyList<string> Locations,
    TimeSpan Timeout)
{
    public IEnumerable<string> ControllerArguments()
    {
        foreach (var argument in ProfileArguments(Profile))
        {
            yield return argument;
        }

        if (EnginePort != 0)
        {
            yield return "--engine-port";
            yield return EnginePort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (ClientPort != 0)
        {
            yield return "--client-port";
            yield return ClientPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (ListenAddress is not null)
        {
            yield return "--ip";
            yield return ListenAddress;
        }

        foreach (var location in Locations)
        {
            yield return "--location";
            yield return location;
        }
    }

    public static IEnumerable<string> ProfileArguments(string? profile) => profile is null ? [] : ["--profile", profile];
}

namespace CapCluster.Launcher.Internal;

/// <summary>What <c>capcluster start</c> was asked for.</summary>
internal sealed record StartOptions(
    int Engines,
    string? Profile,
    int EnginePort,
    int ClientPort,
    string? ListenAddress,
    IReadOnlyList<string> Locations,
    TimeSpan Timeout,
    string Launcher = "local",
    IReadOnlyList<string>? ExtraMpirunArguments = null,
    LaunchOptions? LaunchOptions = null)
{
    /// <summary>The data lanes' port to pin; 0 (the default) lets the controller pick a free one.</summary>
    public int DataPort { get; init; }

    /// <summary>Start the controller with <c>--no-journal</c>: tasks in memory only, lost with the controller.</summary>
    public bool NoJournal { get; init; }

    /// <summary><c>--audit-interval</c> for the controller, in seconds; null (the default) passes none, so it aggregates over 10 s.</summary>
    public double? AuditInterval { get; init; }

    /// <summary><c>--audit-segment-bytes</c> for the controller; null (the default) passes none, so it seals its audit log past 1 MiB.</summary>
    public long? AuditSegmentBytes { get; init; }

    /// <summary><c>--log-format</c> for the controller and every engine (json or text); null (the default) passes none, so they write json.</summary>
    public string? LogFormat { get; init; }

    /// <summary>The ssh, slurm and pbs options (all defaults when none were given).</summary>
    public LaunchOptions Launch => LaunchOptions ?? new LaunchOptions();

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

        if (DataPort != 0)
        {
            yield return "--data-port";
            yield return DataPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
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

        if (NoJournal)
        {
            yield return "--no-journal";
        }

        if (AuditInterval is { } interval)
        {
            yield return "--audit-interval";
            yield return interval.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (AuditSegmentBytes is { } segment)
        {
            yield return "--audit-segment-bytes";
            yield return segment.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach (var argument in LogFormatArguments(LogFormat))
        {
            yield return argument;
        }
    }

    public static IEnumerable<string> ProfileArguments(string? profile) => profile is null ? [] : ["--profile", profile];

    /// <summary>
    /// The controller the engines are started beside, before it is ready: each waits for its state file
    /// (<c>--controller-pid</c>). Null (the default) starts them once it is ready.
    /// </summary>
    public int? ControllerPid { get; init; }

    /// <summary>What every engine is started with besides where it finds its capability: the profile and the log format, as given.</summary>
    public IEnumerable<string> EngineArguments() =>
        ControllerPid is { } pid
            ? EngineArguments(Profile, LogFormat).Concat(["--controller-pid", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            : EngineArguments(Profile, LogFormat);

    public static IEnumerable<string> EngineArguments(string? profile, string? logFormat) => ProfileArguments(profile).Concat(LogFormatArguments(logFormat));

    public static IEnumerable<string> LogFormatArguments(string? logFormat) =>
        logFormat is null ? [] : [CapCluster.Hosting.LogFormatOption.Name, logFormat];

    /// <summary>
    /// mpirun starting N engines with --mpi. As root OpenMPI wants --allow-run-as-root; --oversubscribe lets N exceed
    /// the cores; TERM=dumb keeps the .NET console from writing escape sequences into the output.
    /// </summary>
    public IEnumerable<string> MpirunArguments(string engine, string? baseFolder)
    {
        yield return "-n";
        yield return Engines.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (Environment.UserName == "root")
        {
            yield return "--allow-run-as-root";
        }

        foreach (var argument in new[] { "--oversubscribe", "-x", "TERM=dumb" })
        {
            yield return argument;
        }

        if (baseFolder is not null)
        {
            yield return "-x";
            yield return "CAPCLUSTER_DIR";
        }

        foreach (var argument in ExtraMpirunArguments ?? [])
        {
            yield return argument;
        }

        yield return engine;
        yield return "--mpi";
        foreach (var argument in EngineArguments())
        {
            yield return argument;
        }
    }
}

namespace CapCluster.Repl;

/// <summary>Settings of <c>capcluster console</c>.</summary>
internal sealed record ConsoleOptions
{
    /// <summary>How long a %px or %result wait runs before the console says what it waits for and that Ctrl-C stops it (default 1 s).</summary>
    public TimeSpan WaitNoticeAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long leaving (Ctrl-D) waits for the clients to say goodbye to the controller before the console exits anyway
    /// (default 5 s). It never waits for the engines: calls still running there go on without the console.
    /// </summary>
    public TimeSpan LeaveTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether %px waits for the engines at start-up (default true, like <c>%block on</c>).</summary>
    public bool Block { get; init; } = true;
}

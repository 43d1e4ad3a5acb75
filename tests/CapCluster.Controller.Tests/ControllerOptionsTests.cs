namespace CapCluster.Controller.Tests;

/// <summary>capcontroller's options out of range are refused naming the one option that is, with its value, and no other.</summary>
public sealed class ControllerOptionsTests
{
    private static readonly string[] Named =
    [
        "--heartbeat-period", "--heartbeat-misses", "--max-connections", "--max-connections-per-address", "--max-call-bytes",
        "--max-session-bytes", "--max-buffered-bytes", "--max-session-calls", "--max-unread-bytes", "--max-unread-bytes-per-capability",
        "--lane-join-timeout", "--max-lanes", "--max-lanes-per-capability", "--max-calls-per-capability", "--audit-interval",
        "--audit-segment-bytes", "--max-result-bytes", "--max-queued-bytes",
    ];

    public static TheoryData<string, string> OutOfRange => new()
    {
        { "--heartbeat-period", "--heartbeat-period (0 s) must be more than 0" },
        { "--heartbeat-misses", "--heartbeat-misses (0) must be at least 1" },
        { "--max-connections", "--max-connections (0) must be at least 1" },
        { "--max-connections-per-address", "--max-connections-per-address (0) must be at least 1" },
        { "--max-call-bytes", "--max-call-bytes (0) must be at least 1" },
        { "--max-session-bytes", "--max-session-bytes (0) must be at least 1" },
        { "--max-buffered-bytes", "--max-buffered-bytes (0) must be at least 1" },
        { "--max-session-calls", "--max-session-calls (0) must be at least 1" },
        { "--max-unread-bytes", "--max-unread-bytes (0) must be at least 1" },
        { "--max-unread-bytes-per-capability", "--max-unread-bytes-per-capability (0) must be at least 1" },
        { "--lane-join-timeout", "--lane-join-timeout (0 s) must be more than 0" },
        { "--max-lanes", "--max-lanes (0) must be at least 1" },
        { "--max-lanes-per-capability", "--max-lanes-per-capability (0) must be at least 1" },
        { "--max-calls-per-capability", "--max-calls-per-capability (0) must be at least 1" },
        { "--audit-interval", "--audit-interval (7200 s) must be from 0 to 3600" },
        { "--audit-segment-bytes", "--audit-segment-bytes (-1) must be 0 (never sealed) or more" },
        { "--max-result-bytes", "--max-result-bytes (0) must be at least 1" },
        { "--max-queued-bytes", "--max-queued-bytes (0) must be at least 1" },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void AnOptionOutOfRange_IsRefusedNamingItAndItsValue_AndNoOtherOption(string option, string expected)
    {
        var options = new ControllerOptions();
        Set(options, option);

        var message = Assert.Throws<CapClusterException>(options.Validate).Message;

        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.All(Named.Where(n => n != option), other => Assert.DoesNotContain(other + " ", message, StringComparison.Ordinal));
    }

    private static void Set(ControllerOptions options, string option)
    {
        switch (option)
        {
            case "--heartbeat-period": options.HeartbeatPeriod = TimeSpan.Zero; break;
            case "--heartbeat-misses": options.AllowedHeartbeatMisses = 0; break;
            case "--max-connections": options.Limits = options.Limits with { MaxTotal = 0 }; break;
            case "--max-connections-per-address": options.Limits = options.Limits with { MaxPerAddress = 0 }; break;
            case "--max-call-bytes": options.MaxCallBytes = 0; break;
            case "--max-session-bytes": options.MaxSessionBytes = 0; break;
            case "--max-buffered-bytes": options.MaxBufferedBytes = 0; break;
            case "--max-session-calls": options.MaxSessionCalls = 0; break;
            case "--max-unread-bytes": options.MaxUnreadBytes = 0; break;
            case "--max-unread-bytes-per-capability": options.MaxUnreadBytesPerCapability = 0; break;
            case "--lane-join-timeout": options.LaneJoinTimeout = TimeSpan.Zero; break;
            case "--max-lanes": options.MaxLanes = 0; break;
            case "--max-lanes-per-capability": options.MaxLanesPerCapability = 0; break;
            case "--max-calls-per-capability": options.MaxCallsPerCapability = 0; break;
            case "--audit-interval": options.AuditAggregationInterval = TimeSpan.FromHours(2); break;
            case "--audit-segment-bytes": options.AuditSegmentBytes = -1; break;
            case "--max-result-bytes": options.Tasks.MaxResultBytesPerCapability = 0; break;
            case "--max-queued-bytes": options.Tasks.MaxQueuedBytesPerCapability = 0; break;
            default: throw new ArgumentException(option, nameof(option));
        }
    }
}

using CapCluster.Controller.Internal;
using CapCluster.Controller.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CapCluster.Controller.Tests.Engines;

/// <summary>
/// What a ListEngines call that waits for a change rests on (<see cref="EngineRegistry.ChangedAfter"/>): the version rises
/// by one at each registration and unregistration and at nothing else, a wait on the current version ends at the next
/// change and not before, and a wait on an older version ends at once.
/// </summary>
public sealed class EngineRegistryChangeTests
{
    private readonly EngineRegistry registry = new(new FakeTimeProvider(), NullLogger.Instance);

    [Fact]
    public async Task AWaitOnTheCurrentVersion_EndsAtTheNextRegistration()
    {
        var before = registry.Version;
        var waiting = registry.ChangedAfter(before);
        Assert.False(waiting.IsCompleted);

        await using var engine = new FakeEngine(registry);

        await waiting.Within();
        Assert.Equal(before + 1, registry.Version);
    }

    [Fact]
    public async Task AWaitOnAnOlderVersion_EndsAtOnce()
    {
        var before = registry.Version;
        await using var engine = new FakeEngine(registry);

        Assert.True(registry.ChangedAfter(before).IsCompleted);
        Assert.False(registry.ChangedAfter(registry.Version).IsCompleted);
    }

    [Fact]
    public async Task AnUnregistration_EndsTheWait_ASecondOneOfTheSameEngineChangesNothing()
    {
        var engine = new FakeEngine(registry);
        var registered = registry.Version;
        var waiting = registry.ChangedAfter(registered);

        engine.Lose();
        await waiting.Within();
        Assert.Equal(registered + 1, registry.Version);

        await engine.DisposeAsync(); // unregisters the same engine again
        Assert.Equal(registered + 1, registry.Version);
        Assert.False(registry.ChangedAfter(registry.Version).IsCompleted);
    }
}

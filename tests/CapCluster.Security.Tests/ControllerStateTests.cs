using CapCluster.Security.Tests.Infrastructure;

namespace CapCluster.Security.Tests;

/// <summary>
/// <see cref="ControllerState.TryReadPid"/> reads the state file's pid with the JSON reader (the launcher's check before
/// it starts a controller): it must agree with the serializer's reading and refuse what the serializer refuses.
/// </summary>
public sealed class ControllerStateTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void TryReadPid_OfAWrittenState_IsItsPid()
    {
        new ControllerState(4321, "node1", "0.0.0.0", 40001, 40002, ["127.0.0.1"], DateTimeOffset.UtcNow, 40003).Write(_folder.Path);

        Assert.Equal(4321, ControllerState.TryReadPid(_folder.Path));
        Assert.Equal(ControllerState.TryRead(_folder.Path)!.Pid, ControllerState.TryReadPid(_folder.Path));
    }

    [Fact]
    public void TryReadPid_WithoutAFile_IsNull() => Assert.Null(ControllerState.TryReadPid(_folder.Path));

    [Fact]
    public void TryReadPid_OfAStateWithoutOne_IsNull_AsTheSerializerReadsItPidZero()
    {
        File.WriteAllText(ControllerState.PathIn(_folder.Path), """{ "host": "node1" }""");

        Assert.Null(ControllerState.TryReadPid(_folder.Path));
        Assert.Equal(0, ControllerState.TryRead(_folder.Path)!.Pid);
    }

    [Fact]
    public void TryReadPid_TakesTheDocumentsOwnPid_NotOneNestedInAnotherValue()
    {
        File.WriteAllText(ControllerState.PathIn(_folder.Path), """{ "other": { "pid": 9 }, "list": [ { "pid": 8 } ], "pid": 5 }""");

        Assert.Equal(5, ControllerState.TryReadPid(_folder.Path));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{ "pid": "5" }""")]
    [InlineData("""{ "pid": 5.5 }""")]
    [InlineData("""{ "pid": """)]
    public void TryReadPid_OfAFileTheSerializerCannotReadEither_FailsNamingTheFile(string content)
    {
        var path = ControllerState.PathIn(_folder.Path);
        File.WriteAllText(path, content);

        var e = Assert.Throws<CapClusterException>(() => ControllerState.TryReadPid(_folder.Path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("delete it", e.Message, StringComparison.Ordinal);
        Assert.Throws<CapClusterException>(() => ControllerState.TryRead(_folder.Path));
    }
}

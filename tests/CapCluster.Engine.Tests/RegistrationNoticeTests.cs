using System.IO.Pipes;
using CapCluster.Engine.Internal;

namespace CapCluster.Engine.Tests;

/// <summary><c>capengine --notify-fd</c>: what the engine tells the process that started it, and the descriptors it refuses.</summary>
public sealed class RegistrationNoticeTests
{
    [Fact]
    public async Task SendAsync_WritesTheIdOnALine_ThenClosesThePipe()
    {
        using var reading = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.None);
        // The notice owns the write end from here, as an engine owns the descriptor it inherited.
        var notice = RegistrationNotice.Open(int.Parse(reading.GetClientHandleAsString(), System.Globalization.CultureInfo.InvariantCulture));
        var registered = new TaskCompletionSource<int>();

        var sending = notice.SendAsync(registered.Task);
        Assert.False(sending.IsCompleted);
        registered.SetResult(7);
        await sending.WaitAsync(TimeSpan.FromSeconds(10));

        using var reader = new StreamReader(reading);
        Assert.Equal("7\n", await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task SendAsync_WhenNobodyReadsAnyMore_EndsQuietly()
    {
        var reading = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.None);
        var notice = RegistrationNotice.Open(int.Parse(reading.GetClientHandleAsString(), System.Globalization.CultureInfo.InvariantCulture));
        reading.Dispose();   // capcluster start was interrupted

        await notice.SendAsync(Task.FromResult(0)).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Open_ADescriptorThatIsNotOpen_IsAClearError()
    {
        var error = Assert.Throws<CapClusterException>(() => RegistrationNotice.Open(999_999));

        Assert.StartsWith("--notify-fd 999999 is not a descriptor open for writing", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(-1)]
    public void Validate_TheEnginesOwnStandardStreams_AreRefused(int fd)
    {
        var error = Assert.Throws<CapClusterException>(() => new EngineOptions { NotifyFd = fd }.Validate());

        Assert.Contains("--notify-fd must be an inherited descriptor above 2", error.Message, StringComparison.Ordinal);
    }
}

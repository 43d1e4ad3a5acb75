using CapCluster.Launcher.Internal;

namespace CapCluster.Launcher.Tests;

/// <summary>The exec that turns <c>capcluster console</c> into the console program: when it cannot, the launcher says why and goes on.</summary>
public sealed class ProgramImageTests
{
    [Fact]
    public void Replace_AProgramThatIsNotThere_ReturnsAnErrorNamingItAndTheCause()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"capcluster-no-such-program-{Guid.NewGuid():N}");

        var error = Assert.Throws<CapClusterException>(() => ProgramImage.Replace(missing, ["--profile", "lab"]));

        Assert.Equal($"cannot run {missing}: No such file or directory", error.Message);
    }

    [Fact]
    public void Replace_AFileThatIsNotExecutable_ReturnsPermissionDenied()
    {
        var file = Path.GetTempFileName();
        try
        {
            var error = Assert.Throws<CapClusterException>(() => ProgramImage.Replace(file, []));

            Assert.Equal($"cannot run {file}: Permission denied", error.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

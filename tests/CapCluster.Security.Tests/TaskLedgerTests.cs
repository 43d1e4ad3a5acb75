using CapCluster.Security.Tests.Infrastructure;

namespace CapCluster.Security.Tests;

public sealed class TaskLedgerTests : IDisposable
{
    private const string Alice = "cap_aaaaaaaaaaaaaaaa";
    private const string Team = "cap_bbbbbbbbbbbbbbbb";
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void NewFolder_StartsAtZero_WritesNothingUntilACommit_ThenReopensWithWhatWasCommitted()
    {
        var ledger = TaskLedger.Open(_folder.Path);
        Assert.Equal(0, ledger.ReservedThrough);
        Assert.False(File.Exists(ledger.FilePath));

        ledger.Commit(100_000, [KeyValuePair.Create(Alice, 3L), KeyValuePair.Create(Team, 3L)]);
        ledger.Commit(50, [KeyValuePair.Create(Team, 2L)]);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ledger.FilePath));
        var reopened = TaskLedger.Open(_folder.Path);
        Assert.Equal(100_000, reopened.ReservedThrough);
        Assert.Equal(3, reopened.ChargedTo(Alice));
        Assert.Equal(5, reopened.ChargedTo(Team));
        Assert.Equal(0, reopened.ChargedTo("cap_cccccccccccccccc"));
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("{\"version\":2,\"reservedThrough\":5,\"charged\":{}}")]
    [InlineData("{\"version\":1,\"reservedThrough\":-5,\"charged\":{}}")]
    [InlineData("{\"version\":1,\"reservedThrough\":5,\"charged\":{\"../x\":1}}")]
    public void CorruptFile_IsRefusedNamingTheFileAndWhatToDo(string content)
    {
        File.WriteAllText(_folder.File(TaskLedger.FileName), content);

        var error = Assert.Throws<CapClusterException>(() => TaskLedger.Open(_folder.Path));

        Assert.StartsWith(_folder.File(TaskLedger.FileName) + ": the task ledger is unreadable", error.Message);
        Assert.Contains("Restore it from a backup", error.Message);
    }

    [Fact]
    public void CommitThatCannotBeWritten_FailsNamingTheFile_AndTheLedgerIsAsItWas()
    {
        var ledger = TaskLedger.Open(_folder.Path);
        ledger.Commit(10, [KeyValuePair.Create(Alice, 1L)]);
        // Something in the way of the rename (a folder where the file goes) fails the write, even as root.
        File.Delete(ledger.FilePath);
        Directory.CreateDirectory(ledger.FilePath);

        var error = Assert.Throws<CapClusterException>(() => ledger.Commit(20, [KeyValuePair.Create(Alice, 1L)]));

        Assert.StartsWith(ledger.FilePath + ": the controller could not record its task ids and quotas", error.Message);
        Assert.Equal(10, ledger.ReservedThrough);
        Assert.Equal(1, ledger.ChargedTo(Alice));
        Assert.Empty(Directory.GetFiles(_folder.Path, "*.tmp", SearchOption.AllDirectories));
    }
}

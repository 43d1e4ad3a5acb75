using CapCluster.Controller.Internal.Tasks;
using CapCluster.Controller.Tests.Infrastructure;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>A journal written by the previous schema (2: images without the capability they are charged to) is read, and upgraded in place.</summary>
public sealed class JournalSchemaTests
{
    [Fact]
    public async Task AVersion2Journal_IsReadWithItsImagesChargedToNoOne_AndNewImagesKeepTheirOwner()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "journal");
        Directory.CreateDirectory(path);
        using (var old = new SqliteConnection($"Data Source={Path.Combine(path, TaskJournal.DatabaseName)};Pooling=False"))
        {
            old.Open();
            using var command = old.CreateCommand();
            command.CommandText = """
                CREATE TABLE tasks (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, submitted_us INTEGER NOT NULL, spec BLOB NOT NULL);
                CREATE TABLE results (id INTEGER PRIMARY KEY, result BLOB, in_file INTEGER NOT NULL);
                CREATE TABLE assemblies (hash TEXT PRIMARY KEY, image BLOB NOT NULL);
                CREATE TABLE closures (id TEXT PRIMARY KEY, hashes TEXT NOT NULL);
                INSERT INTO assemblies (hash, image) VALUES ('old', x'0102');
                PRAGMA user_version = 2;
                """;
            command.ExecuteNonQuery();
        }

        using (var journal = TaskJournal.Open(path, new TaskJournalOptions(), NullLogger.Instance))
        {
            Assert.Equal([("old", ByteString.CopyFrom(1, 2), (string?)null)], journal.LoadAssemblies().Images);
            var added = new AssemblyRecords();
            added.Images.Add(("new", ByteString.CopyFrom(3), "cap_a"));
            await journal.Submit([], added).Within();
        }

        using var reopened = TaskJournal.Open(path, new TaskJournalOptions(), NullLogger.Instance);
        Assert.Equal(
            [("new", ByteString.CopyFrom(3), "cap_a"), ("old", ByteString.CopyFrom(1, 2), null)],
            reopened.LoadAssemblies().Images.OrderBy(i => i.Hash, StringComparer.Ordinal));
    }

    [Fact]
    public async Task TheJournalsFiles_AreTheOwnersOnly_EvenInAFolderOthersMayRead_AndThoseOfAnOlderJournalBecomeSo()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "shared");
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var files = new[] { TaskJournal.DatabaseName, TaskJournal.DatabaseName + "-wal", TaskJournal.DatabaseName + "-shm" }.Select(f => Path.Combine(path, f)).ToArray();

        using (var journal = TaskJournal.Open(path, new TaskJournalOptions(), NullLogger.Instance))
        {
            await journal.Submit([], new AssemblyRecords()).Within();
            Assert.All(files, f => Assert.Equal(OwnerOnly, File.GetUnixFileMode(f)));
        }

        foreach (var file in files.Where(File.Exists))
        {
            File.SetUnixFileMode(file, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        using (TaskJournal.Open(path, new TaskJournalOptions(), NullLogger.Instance))
        {
            Assert.All(files.Where(File.Exists), f => Assert.Equal(OwnerOnly, File.GetUnixFileMode(f)));
        }
    }
}

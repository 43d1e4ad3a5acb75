using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// How the journal gives disk space back. SQLite keeps the pages of deleted rows for reuse, so without this a journal that
/// once held a million tasks stays that size after they are cleared. After a large clear the writer thread rewrites the
/// database with what is left (VACUUM), when that is most of the file's worth of free pages and little to copy; a
/// checkpoint then truncates the database and the write-ahead log. (Incremental auto-vacuum would give space back in
/// steps whatever is left, but keeps its pointer map up to date at every page a write takes: the controller spent 10 %
/// more of its time on a burst of 20,000 tasks, 2026-12-08.)
/// </summary>
internal sealed partial class TaskJournal
{
    private const double MiB = 1 << 20;

    /// <summary>A give-back (see <see cref="GiveBackSpace"/>), on the writer thread while it holds the connection.</summary>
    private void GiveBack()
    {
        var path = Path.Combine(Folder, DatabaseName);
        try
        {
            var before = FilesSize(path);
            var (pages, free, pageSize) = (Pragma("page_count"), Pragma("freelist_count"), Pragma("page_size"));
            var left = (pages - free) * pageSize;
            if (free * 2 < pages || left > options.MaxGiveBackCopy)
            {
                ControllerLog.JournalKeptItsSize(logger, path, pages * pageSize / MiB, left / MiB, options.MaxGiveBackCopy / MiB);
                return;
            }

            // The rewrite goes through the write-ahead log; TRUNCATE then empties it too (a reader in the middle of a read
            // leaves it for a later checkpoint, without waiting).
            Execute(connection, "VACUUM; PRAGMA wal_checkpoint(TRUNCATE);");
            var size = FilesSize(path);
            ControllerLog.JournalGaveBack(logger, path, Math.Max(0, before - size) / MiB, size / MiB);
        }
        catch (SqliteException e)
        {
            ControllerLog.JournalNotVacuumed(logger, path, Reason(e));
        }
        finally
        {
            lock (gate)
            {
                if (!givingBack)
                {
                    givenBack?.TrySetResult();
                    givenBack = null;
                }
            }
        }
    }

    private long Pragma(string name) => Convert.ToInt64(Scalar(connection, $"PRAGMA {name}"), CultureInfo.InvariantCulture);

    /// <summary>The bytes of the database and its write-ahead log.</summary>
    private static long FilesSize(string path) =>
        new[] { path, path + "-wal" }.Sum(file => File.Exists(file) ? new FileInfo(file).Length : 0);
}

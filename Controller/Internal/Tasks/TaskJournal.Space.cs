using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace CapCluster.Controller.Internal.Tasks;

/// <summary>
/// How the journal gives disk space back. SQLite keeps the pages of deleted rows for reuse, so without this a journal that
/// once held a million tasks stays that size after they are cleared. With incremental auto-vacuum the free pages can be
/// moved to the end of the file and cut off in steps, which the writer thread takes between its writes after a large
/// clear; a checkpoint then truncates the database and the write-ahead log.
/// </summary>
internal sealed partial class TaskJournal
{
    private const double MiB = 1 << 20;

    /// <summary>
    /// Switches a journal made before incremental auto-vacuum (or by hand) to it: a mode SQLite changes only by
    /// rewriting the whole database (VACUUM), once, here at open. One that cannot be rewritten (no room for the copy) is
    /// used as it is, saying so.
    /// </summary>
    private static void SwitchToIncrementalVacuum(SqliteConnection connection, string path, ILogger logger)
    {
        if (Convert.ToInt32(Scalar(connection, "PRAGMA auto_vacuum"), CultureInfo.InvariantCulture) == IncrementalVacuum)
        {
            return;
        }

        var before = FilesSize(path);
        var started = Stopwatch.GetTimestamp();
        try
        {
            Execute(connection, "PRAGMA auto_vacuum = INCREMENTAL; VACUUM; PRAGMA wal_checkpoint(TRUNCATE);");
            ControllerLog.JournalVacuumed(logger, path, before / MiB, FilesSize(path) / MiB, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (SqliteException e)
        {
            ControllerLog.JournalNotVacuumed(logger, path, Reason(e));
        }
    }

    /// <summary>
    /// One step of a give-back (see <see cref="GiveBackSpace"/>), on the writer thread while it holds the connection:
    /// at most <see cref="GiveBackPages"/> free pages cut off; once none is left, a checkpoint that truncates the files.
    /// Asks for another step while free pages remain.
    /// </summary>
    private void GiveBackStep()
    {
        var path = Path.Combine(Folder, DatabaseName);
        var more = false;
        try
        {
            givingBackFrom ??= FilesSize(path);
            using (var step = connection.CreateCommand())
            {
                step.CommandText = $"PRAGMA incremental_vacuum({GiveBackPages})";
                using var reader = step.ExecuteReader();
                while (reader.Read())
                {
                    // SQLite frees a page a step of the statement: read it to its end.
                }
            }

            more = Convert.ToInt64(Scalar(connection, "PRAGMA freelist_count"), CultureInfo.InvariantCulture) > 0;
            if (!more)
            {
                // The database file is cut at a checkpoint; TRUNCATE also empties the write-ahead log (a reader in the
                // middle of a read leaves it for a later checkpoint, without waiting).
                Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
                var size = FilesSize(path);
                ControllerLog.JournalGaveBack(logger, path, Math.Max(0, givingBackFrom.Value - size) / MiB, size / MiB);
            }
        }
        catch (SqliteException e)
        {
            ControllerLog.JournalNotVacuumed(logger, path, Reason(e));
        }

        lock (gate)
        {
            if (more)
            {
                givingBack = true;
            }
            else if (!givingBack)
            {
                givenBack?.TrySetResult();
                givenBack = null;
                givingBackFrom = null;
            }
        }
    }

    /// <summary>The bytes of the database and its write-ahead log.</summary>
    private static long FilesSize(string path) =>
        new[] { path, path + "-wal" }.Sum(file => File.Exists(file) ? new FileInfo(file).Length : 0);
}

using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace CapCluster.Controller.Internal.Tasks;

internal sealed partial class TaskJournal
{
    /// <summary>
    /// The writer's prepared statements, made once and enlisted in each transaction. Rows go in many to a statement
    /// (16, 4 or 1 at a time): a statement's own cost is much of what a small row costs, and binding grows faster than
    /// linearly with a statement's parameters (16 rows measured faster than 64). The transaction is begun and committed by
    /// prepared statements too, not by <see cref="SqliteConnection.BeginTransaction()"/>, which prepares its BEGIN and
    /// COMMIT anew each time and must be enlisted in every command (22 against 31 µs a commit of one task and one
    /// result, measured in a loop on 2026-12-05).
    /// </summary>
    private sealed class Commands : IDisposable
    {
        private static readonly int[] Sizes = [16, 4, 1];

        private readonly Dictionary<int, RowStatement> insertTasks = [];
        private readonly Dictionary<int, RowStatement> insertResults = [];
        private readonly Dictionary<int, RowStatement> insertAttempts = [];
        private readonly Dictionary<int, RowStatement> forgetAttempts = [];
        private readonly Dictionary<int, RowStatement> forgetTasks = [];
        private readonly Dictionary<int, RowStatement> forgetResults = [];
        private readonly RowStatement forgetTaskRange;
        private readonly RowStatement forgetResultRange;
        private readonly List<long> singles = [];
        private readonly SqliteCommand addAssembly;
        private readonly SqliteCommand addClosure;
        private readonly SqliteCommand begin;
        private readonly SqliteCommand commit;
        private readonly SqliteCommand rollback;

        public Commands(SqliteConnection connection)
        {
            foreach (var n in Sizes)
            {
                insertTasks[n] = new RowStatement(connection, $"INSERT OR REPLACE INTO tasks (id, owner, submitted_us, spec) VALUES {Rows(n, 4)}");
                insertResults[n] = new RowStatement(connection, $"INSERT OR REPLACE INTO results (id, result, in_file) VALUES {Rows(n, 3)}");
                insertAttempts[n] = new RowStatement(connection, $"INSERT OR REPLACE INTO attempts (id, attempts, engine_losses, recovering) VALUES {Rows(n, 4)}");
                forgetTasks[n] = new RowStatement(connection, $"DELETE FROM tasks WHERE id IN ({Ids(n)})");
                forgetResults[n] = new RowStatement(connection, $"DELETE FROM results WHERE id IN ({Ids(n)})");
                forgetAttempts[n] = new RowStatement(connection, $"DELETE FROM attempts WHERE id IN ({Ids(n)})");
            }

            forgetTaskRange = new RowStatement(connection, "DELETE FROM tasks WHERE id BETWEEN $p0 AND $p1");
            forgetResultRange = new RowStatement(connection, "DELETE FROM results WHERE id BETWEEN $p0 AND $p1");
            addAssembly = Prepare(connection, "INSERT OR IGNORE INTO assemblies (hash, image, owner) VALUES ($p0, $p1, $p2)", 3);
            addClosure = Prepare(connection, "INSERT OR IGNORE INTO closures (id, hashes) VALUES ($p0, $p1)", 2);
            begin = Prepare(connection, "BEGIN", 0);
            commit = Prepare(connection, "COMMIT", 0);
            rollback = Prepare(connection, "ROLLBACK", 0);
        }

        /// <summary>Runs <paramref name="write"/> in one transaction; rolls it back if it throws.</summary>
        public void InTransaction(Action<Commands> write)
        {
            begin.ExecuteNonQuery();
            try
            {
                write(this);
                commit.ExecuteNonQuery();
            }
            catch
            {
                try
                {
                    rollback.ExecuteNonQuery();
                }
                catch (SqliteException)
                {
                    // SQLite had rolled it back itself (a full disk, say): nothing is open.
                }

                throw;
            }
        }

        /// <summary>Stores tasks; each row's spec is its slice of <paramref name="specs"/>.</summary>
        public void InsertTasks(List<(long Id, string Owner, long SubmittedUs, int SpecAt, int SpecLength)> rows, ReadOnlyMemory<byte> specs) =>
            Run(insertTasks, rows, (statement, at, row) =>
            {
                statement.Bind(at, row.Id);
                statement.Bind(at + 1, row.Owner);
                statement.Bind(at + 2, row.SubmittedUs);
                statement.Bind(at + 3, specs.Span.Slice(row.SpecAt, row.SpecLength));
            }, 4);

        /// <summary>Stores results; a null result notes that it is in its file.</summary>
        public void InsertResults(List<(long Id, byte[]? Result)> rows) =>
            Run(insertResults, rows, static (statement, at, row) =>
            {
                statement.Bind(at, row.Id);
                statement.Bind(at + 1, row.Result);
                statement.Bind(at + 2, row.Result is null ? 1 : 0);
            }, 3);

        /// <summary>Stores what tasks' attempts have used, replacing what an earlier failure stored.</summary>
        public void InsertAttempts(List<(long Id, AttemptCounts Counts)> rows) =>
            Run(insertAttempts, rows, static (statement, at, row) =>
            {
                statement.Bind(at, row.Id);
                statement.Bind(at + 1, row.Counts.Attempts);
                statement.Bind(at + 2, row.Counts.EngineLosses);
                statement.Bind(at + 3, row.Counts.Recovering ? 1 : 0);
            }, 4);

        /// <summary>Deletes the attempts of forgotten tasks (only those that have a row: see <c>attempted</c>).</summary>
        public void ForgetAttempts(List<long> ids) => Run(forgetAttempts, ids, static (statement, at, id) => statement.Bind(at, id), 1);

        /// <summary>
        /// Deletes tasks and their results. A run of consecutive ids (a clear of a burst is mostly one) goes as one range
        /// delete, SQLite's walk along the rows, rather than a look-up an id (100,000 cleared: 110–160 ms of the writer's
        /// CPU before, in <c>bench/run journal</c>); the ids left go many to a statement. Sorts <paramref name="ids"/>.
        /// </summary>
        public void Forget(List<long> ids)
        {
            ids.Sort();
            singles.Clear();
            for (var start = 0; start < ids.Count;)
            {
                var end = start;
                while (end + 1 < ids.Count && ids[end + 1] <= ids[end] + 1)
                {
                    end++; // an id named twice stays in the run
                }

                if (end > start)
                {
                    foreach (var range in (ReadOnlySpan<RowStatement>)[forgetTaskRange, forgetResultRange])
                    {
                        range.Bind(0, ids[start]);
                        range.Bind(1, ids[end]);
                        range.Execute();
                    }
                }
                else
                {
                    singles.Add(ids[start]);
                }

                start = end + 1;
            }

            Run(forgetTasks, singles, static (statement, at, id) => statement.Bind(at, id), 1);
            Run(forgetResults, singles, static (statement, at, id) => statement.Bind(at, id), 1);
        }

        public void AddAssembly(string hash, byte[] image, string? owner)
        {
            addAssembly.Parameters[0].Value = hash;
            addAssembly.Parameters[1].Value = image;
            addAssembly.Parameters[2].Value = (object?)owner ?? DBNull.Value;
            addAssembly.ExecuteNonQuery();
        }

        /// <summary>Stores a closure: its image hashes, declaring assembly first, one a line.</summary>
        public void AddClosure(string id, string hashes)
        {
            addClosure.Parameters[0].Value = id;
            addClosure.Parameters[1].Value = hashes;
            addClosure.ExecuteNonQuery();
        }

        public void Dispose()
        {
            foreach (var statement in new[] { insertTasks, insertResults, insertAttempts, forgetTasks, forgetResults, forgetAttempts }.SelectMany(s => s.Values).Append(forgetTaskRange).Append(forgetResultRange))
            {
                statement.Dispose();
            }

            foreach (var command in new[] { addAssembly, addClosure, begin, commit, rollback })
            {
                command.Dispose();
            }
        }

        /// <summary>Runs <paramref name="rows"/> through the largest statements that fit, then the smaller ones.</summary>
        private static void Run<T>(Dictionary<int, RowStatement> bySize, List<T> rows, Action<RowStatement, int, T> bind, int width)
        {
            var done = 0;
            foreach (var size in Sizes)
            {
                var statement = bySize[size];
                while (rows.Count - done >= size)
                {
                    for (var i = 0; i < size; i++)
                    {
                        bind(statement, i * width, rows[done + i]);
                    }

                    statement.Execute();
                    done += size;
                }
            }
        }

        private static string Rows(int rows, int width) =>
            string.Join(", ", Enumerable.Range(0, rows).Select(r => "(" + string.Join(", ", Enumerable.Range(0, width).Select(c => $"$p{(r * width) + c}")) + ")"));

        /// <summary>The parameters of an <c>IN</c> list of <paramref name="count"/> ids.</summary>
        private static string Ids(int count) => string.Join(", ", Enumerable.Range(0, count).Select(i => $"$p{i}"));

        private static SqliteCommand Prepare(SqliteConnection connection, string sql, int parameters)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            for (var i = 0; i < parameters; i++)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = $"$p{i}" });
            }

            return command;
        }

        /// <summary>
        /// A prepared row statement (an insert or a delete) driven through SQLite's own API on the connection's handle: the rows of a burst are most of
        /// what the journal costs, and binding through <see cref="SqliteParameter"/> (a boxed value, its type worked out
        /// again each time) cost more than SQLite's insert itself. Parameters are numbered from 0, as in <c>Rows</c>.
        /// </summary>
        private sealed class RowStatement : IDisposable
        {
            private readonly sqlite3 db;
            private readonly sqlite3_stmt statement;

            public RowStatement(SqliteConnection connection, string sql)
            {
                db = connection.Handle!;
                Check(raw.sqlite3_prepare_v2(db, sql, out statement));
            }

            public void Bind(int at, long value) => Check(raw.sqlite3_bind_int64(statement, at + 1, value));

            /// <summary>
            /// Binds text from the string's own characters (SQLite stores it as UTF-8): no encoded copy a row. An empty
            /// string goes the other way, since an empty span would bind NULL.
            /// </summary>
            public void Bind(int at, string value) =>
                Check(value.Length == 0 ? raw.sqlite3_bind_text(statement, at + 1, value) : raw.sqlite3_bind_text16(statement, at + 1, value.AsSpan()));

            /// <summary>Binds a blob from a span (SQLite copies it); an empty one binds an empty blob, not NULL.</summary>
            public void Bind(int at, ReadOnlySpan<byte> value) =>
                Check(value.IsEmpty ? raw.sqlite3_bind_zeroblob(statement, at + 1, 0) : raw.sqlite3_bind_blob(statement, at + 1, value));

            /// <summary>Binds a blob; null binds NULL, and an empty array an empty blob (not NULL, as a null pointer would).</summary>
            public void Bind(int at, byte[]? value) =>
                Check(value switch
                {
                    null => raw.sqlite3_bind_null(statement, at + 1),
                    [] => raw.sqlite3_bind_zeroblob(statement, at + 1, 0),
                    _ => raw.sqlite3_bind_blob(statement, at + 1, value),
                });

            public void Execute()
            {
                var result = raw.sqlite3_step(statement);
                raw.sqlite3_reset(statement);
                if (result != raw.SQLITE_DONE)
                {
                    SqliteException.ThrowExceptionForRC(result, db);
                }
            }

            public void Dispose() => statement.Dispose();

            private void Check(int result)
            {
                if (result != raw.SQLITE_OK)
                {
                    SqliteException.ThrowExceptionForRC(result, db);
                }
            }
        }
    }
}

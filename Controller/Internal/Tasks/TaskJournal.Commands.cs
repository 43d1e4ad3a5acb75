using Microsoft.Data.Sqlite;

namespace CapCluster.Controller.Internal.Tasks;

internal sealed partial class TaskJournal
{
    /// <summary>The writer's prepared statements, made once and enlisted in each transaction.</summary>
    private sealed class Commands : IDisposable
    {
        private readonly SqliteCommand insert;
        private readonly SqliteCommand finish;
        private readonly SqliteCommand forget;
        private readonly SqliteCommand addAssembly;

        public Commands(SqliteConnection connection)
        {
            insert = Prepare(connection, "INSERT OR REPLACE INTO tasks (id, owner, submitted_us, spec) VALUES ($id, $owner, $submitted, $spec)", "$id", "$owner", "$submitted", "$spec");
            finish = Prepare(connection, "UPDATE tasks SET result = $result, result_file = $file, spec = x'' WHERE id = $id", "$id", "$result", "$file");
            forget = Prepare(connection, "DELETE FROM tasks WHERE id = $id RETURNING result_file", "$id");
            addAssembly = Prepare(connection, "INSERT OR IGNORE INTO assemblies (hash, image) VALUES ($hash, $image)", "$hash", "$image");
        }

        public void Enlist(SqliteTransaction transaction)
        {
            insert.Transaction = finish.Transaction = forget.Transaction = addAssembly.Transaction = transaction;
        }

        public void Insert(long id, string owner, long submittedUs, byte[] spec)
        {
            insert.Parameters[0].Value = id;
            insert.Parameters[1].Value = owner;
            insert.Parameters[2].Value = submittedUs;
            insert.Parameters[3].Value = spec;
            insert.ExecuteNonQuery();
        }

        /// <summary>Stores the result, or with <paramref name="result"/> null notes that it is in its file.</summary>
        public void Finish(long id, byte[]? result)
        {
            finish.Parameters[0].Value = id;
            finish.Parameters[1].Value = (object?)result ?? DBNull.Value;
            finish.Parameters[2].Value = result is null ? 1 : 0;
            finish.ExecuteNonQuery();
        }

        /// <summary>Deletes a task; true when its result was in a file (which the caller deletes).</summary>
        public bool Forget(long id)
        {
            forget.Parameters[0].Value = id;
            return forget.ExecuteScalar() is long file && file == 1;
        }

        public void AddAssembly(string hash, byte[] image)
        {
            addAssembly.Parameters[0].Value = hash;
            addAssembly.Parameters[1].Value = image;
            addAssembly.ExecuteNonQuery();
        }

        public void Dispose()
        {
            insert.Dispose();
            finish.Dispose();
            forget.Dispose();
            addAssembly.Dispose();
        }

        private static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] names)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in names)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            return command;
        }
    }
}

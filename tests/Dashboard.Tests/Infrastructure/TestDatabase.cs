using Dashboard.Domain.Persistence;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Dashboard.Tests.Infrastructure;

/// <summary>
/// The database a test runs on. By default a SQLite file of its own; when the test script started a throwaway
/// PostgreSQL server (<c>DASHBOARD_TEST_POSTGRES</c> holds a connection string with the right to create databases),
/// a fresh PostgreSQL database of its own instead, dropped afterwards. <c>./test.sh</c> runs this project once each way.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string sqlitePath, string? postgreSql)
    {
        SqlitePath = sqlitePath;
        PostgreSql = postgreSql;
    }

    /// <summary>The server connection string when this run is on PostgreSQL, else null.</summary>
    public static string? Server { get; } = Environment.GetEnvironmentVariable("DASHBOARD_TEST_POSTGRES") is { Length: > 0 } value ? value : null;

    public static bool IsPostgreSql => Server is not null;

    public string SqlitePath { get; }

    /// <summary>This test's own database on the PostgreSQL server, or null on SQLite.</summary>
    public string? PostgreSql { get; }

    /// <summary>A new database: on PostgreSQL created now; on SQLite the file <paramref name="sqlitePath"/> (or a temporary one), created on migration.</summary>
    public static TestDatabase Create(string? sqlitePath = null)
    {
        sqlitePath ??= Path.Combine(Path.GetTempPath(), $"dashboard-test-{Guid.NewGuid():N}.db");
        if (Server is null)
        {
            return new TestDatabase(sqlitePath, null);
        }

        var name = $"dashboard_test_{Guid.NewGuid():N}";
        using (var connection = new NpgsqlConnection(Server))
        {
            connection.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            create.ExecuteNonQuery();
        }

        return new TestDatabase(sqlitePath, new NpgsqlConnectionStringBuilder(Server) { Database = name }.ConnectionString);
    }

    public DbContextOptionsBuilder Configure(DbContextOptionsBuilder options) =>
        PostgreSql is null ? options.UseDashboardSqlite(SqlitePath) : options.UseDashboardPostgreSql(PostgreSql);

    /// <summary>Points a whole app at this database (its data directory still holds the rest: cache, files).</summary>
    public void Configure(IWebHostBuilder builder)
    {
        if (PostgreSql is not null)
        {
            builder.UseSetting("Dashboard:Database:Provider", "PostgreSQL");
            builder.UseSetting("ConnectionStrings:Dashboard", PostgreSql);
        }
    }

    /// <summary>Settings for an app started as its own process (environment variables).</summary>
    public IEnumerable<KeyValuePair<string, string>> ProcessEnvironment() =>
        PostgreSql is null
            ? []
            : [new("Dashboard__Database__Provider", "PostgreSQL"), new("ConnectionStrings__Dashboard", PostgreSql)];

    /// <summary>
    /// Everything stored, as text, for "no secret in plain text" checks: on SQLite the bytes of every database file in
    /// <paramref name="dataDirectory"/> (the app's and Hangfire's, with their write-ahead logs); on PostgreSQL every row of
    /// every table of this database, Hangfire's schema included.
    /// </summary>
    public async Task<string> StoredTextAsync(string dataDirectory)
    {
        if (PostgreSql is null)
        {
            SqliteConnection.ClearAllPools();
            var text = new System.Text.StringBuilder();
            var files = Directory.GetFiles(dataDirectory, "*.db*");
            Assert.Contains(files, f => f.EndsWith("dashboard.db", StringComparison.Ordinal));
            // Write-ahead logs first, databases last: a log the app checkpoints and deletes meanwhile (its last connection
            // closed) is gone from the listing's snapshot, and what it held is in its database by then, read after it.
            foreach (var file in files.OrderBy(f => f.EndsWith(".db", StringComparison.Ordinal)))
            {
                try
                {
                    await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    text.Append(await new StreamReader(stream).ReadToEndAsync());
                }
                catch (FileNotFoundException) when (!file.EndsWith(".db", StringComparison.Ordinal))
                {
                }
            }

            return text.ToString();
        }

        await using var connection = new NpgsqlConnection(PostgreSql);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.Contains(tables, t => t.EndsWith(".\"PullSecrets\"", StringComparison.Ordinal));
        var all = new System.Text.StringBuilder();
        foreach (var table in tables)
        {
            await using var rows = new NpgsqlCommand($"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {table} t", connection);
            all.Append(await rows.ExecuteScalarAsync()).Append('\n');
        }

        return all.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (PostgreSql is null)
        {
            SqliteConnection.ClearAllPools();
            foreach (var file in Directory.Exists(Path.GetDirectoryName(SqlitePath))
                         ? Directory.GetFiles(Path.GetDirectoryName(SqlitePath)!, Path.GetFileName(SqlitePath) + "*")
                         : [])
            {
                File.Delete(file);
            }

            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Server);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{new NpgsqlConnectionStringBuilder(PostgreSql).Database}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}

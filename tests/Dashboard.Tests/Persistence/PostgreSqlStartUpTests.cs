using Dashboard.Tests.Infrastructure;
using Npgsql;

namespace Dashboard.Tests.Persistence;

/// <summary>
/// What an operator sees when the PostgreSQL settings are wrong: the app started as its own process either creates the
/// missing database (when its role may) or stops with one line that names the server, the database and what to do, never
/// Npgsql's stack trace. Runs in the PostgreSQL pass of <c>./test.sh</c> only (category <c>PostgreSql</c>).
/// </summary>
[Trait("Category", "PostgreSql")]
public sealed class PostgreSqlStartUpTests
{
    private static string Server => TestDatabase.Server ?? throw new InvalidOperationException(
        "These tests need a PostgreSQL server: ./test.sh starts one and sets DASHBOARD_TEST_POSTGRES.");

    [Fact]
    public async Task A_missing_database_is_created_when_the_role_may()
    {
        var name = $"dashboard_created_{Guid.NewGuid():N}";
        try
        {
            await using var app = await AppProcess.StartAsync(Settings(new NpgsqlConnectionStringBuilder(Server) { Database = name }));

            using var response = await app.Admin.GetAsync("/api/v1/namespaces");
            Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}\n{app.Log}");
            Assert.Contains($"Created the database {name}", app.Log, StringComparison.Ordinal);
            // Nor does EF's read of the migration history, which it logged as a failure on a new database.
            Assert.DoesNotContain("fail:", app.Log, StringComparison.Ordinal);
        }
        finally
        {
            await DropAsync(name);
        }
    }

    [Fact]
    public async Task A_missing_database_the_role_may_not_create_stops_with_one_line_naming_it_and_the_command()
    {
        var role = $"limited_{Guid.NewGuid():N}";
        await ExecuteAsync($"CREATE ROLE \"{role}\" LOGIN PASSWORD 'limited-password' NOCREATEDB");
        try
        {
            var settings = new NpgsqlConnectionStringBuilder(Server) { Database = "no_such_dashboard", Username = role, Password = "limited-password" };

            var (exitCode, errors) = await AppProcess.RunToExitAsync(Settings(settings));

            Assert.Equal(1, exitCode);
            var line = Assert.Single(Lines(errors));
            Assert.Contains($"{settings.Host}:{settings.Port}", line, StringComparison.Ordinal);
            Assert.Contains("no database \"no_such_dashboard\"", line, StringComparison.Ordinal);
            Assert.Contains($"role \"{role}\" may not create it", line, StringComparison.Ordinal);
            Assert.Contains($"createdb -h {settings.Host} -p {settings.Port} -U postgres -O {role} no_such_dashboard", line, StringComparison.Ordinal);
        }
        finally
        {
            await ExecuteAsync($"DROP ROLE IF EXISTS \"{role}\"");
        }
    }

    [Fact]
    public async Task A_wrong_password_stops_with_one_line_naming_the_role()
    {
        var settings = new NpgsqlConnectionStringBuilder(Server) { Password = "not-the-password" };

        var (exitCode, errors) = await AppProcess.RunToExitAsync(Settings(settings));

        Assert.Equal(1, exitCode);
        var line = Assert.Single(Lines(errors));
        Assert.Contains($"refused role \"{settings.Username}\"", line, StringComparison.Ordinal);
        Assert.Contains("password", line, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_stops_with_one_line_naming_it()
    {
        var settings = new NpgsqlConnectionStringBuilder(Server) { Port = RegistryServer.FreePort(), Timeout = 3 };

        var (exitCode, errors) = await AppProcess.RunToExitAsync(Settings(settings));

        Assert.Equal(1, exitCode);
        var line = Assert.Single(Lines(errors));
        Assert.Contains($"PostgreSQL server {settings.Host}:{settings.Port} cannot be reached", line, StringComparison.Ordinal);
    }

    private static IEnumerable<KeyValuePair<string, string>> Settings(NpgsqlConnectionStringBuilder connection) =>
    [
        new("Dashboard__Database__Provider", "PostgreSQL"),
        new("ConnectionStrings__Dashboard", connection.ConnectionString),
    ];

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task DropAsync(string database)
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
    }
}

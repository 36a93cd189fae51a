using System.Net.Sockets;
using Npgsql;

namespace Dashboard.Hosting;

/// <summary>
/// What an operator needs to read when the configured PostgreSQL database cannot be used at start: the server, the
/// database, the role and what to do, in one line, instead of Npgsql's stack trace. A missing database is created
/// when the role may (<c>CREATEDB</c>), as EF's migrations would on SQLite.
/// </summary>
internal static class PostgreSqlStartUp
{
    private const string InvalidCatalogName = "3D000";
    private const string InvalidPassword = "28P01";
    private const string InvalidAuthorization = "28000";
    private const string InsufficientPrivilege = "42501";
    private const string DuplicateDatabase = "42P04";

    /// <summary>Opens one connection to the database, creating it when it is missing and the role may; else a <see cref="StartUpFailure"/>.</summary>
    public static async Task EnsureDatabaseAsync(string connectionString, ILogger logger, CancellationToken ct = default)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        var where = $"PostgreSQL server {settings.Host}:{settings.Port}";
        try
        {
            await OpenAsync(connectionString, ct);
        }
        catch (PostgresException e) when (e.SqlState == InvalidCatalogName)
        {
            await CreateAsync(settings, where, ct);
            logger.LogWarning("Created the database {Database} on {Server} (it did not exist)", settings.Database, where);
        }
        catch (Exception e) when (Failure(e, settings, where) is { } failure)
        {
            throw failure;
        }
    }

    private static async Task CreateAsync(NpgsqlConnectionStringBuilder settings, string where, CancellationToken ct)
    {
        // The maintenance database every server has; the role's own credentials.
        var maintenance = new NpgsqlConnectionStringBuilder(settings.ConnectionString) { Database = "postgres", Pooling = false };
        var database = settings.Database!;
        try
        {
            await using var connection = new NpgsqlConnection(maintenance.ConnectionString);
            await connection.OpenAsync(ct);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == DuplicateDatabase)
        {
            // Another instance starting at the same time created it first.
        }
        catch (Exception e) when (e is PostgresException or NpgsqlException)
        {
            var reason = e is PostgresException { SqlState: InsufficientPrivilege } ? "may not create it" : $"could not create it ({Reason(e)})";
            throw new StartUpFailure(
                $"{where} has no database \"{database}\" and role \"{settings.Username}\" {reason}. Create it as a role that may, " +
                $"e.g. createdb -h {settings.Host} -p {settings.Port} -U postgres -O {settings.Username} {database} " +
                "(or set ConnectionStrings:Dashboard to an existing database).", e);
        }
    }

    private static StartUpFailure? Failure(Exception e, NpgsqlConnectionStringBuilder settings, string where) => e switch
    {
        PostgresException { SqlState: InvalidPassword or InvalidAuthorization } => new StartUpFailure(
            $"{where} refused role \"{settings.Username}\": {Reason(e)}. Check the user name and password in ConnectionStrings:Dashboard.", e),
        PostgresException => new StartUpFailure(
            $"{where} refused the connection to database \"{settings.Database}\" as \"{settings.Username}\": {Reason(e)}.", e),
        NpgsqlException { InnerException: SocketException or TimeoutException or IOException } or NpgsqlException { IsTransient: true } => new StartUpFailure(
            $"{where} cannot be reached: {Reason(e)}. Check that it runs and that Host and Port in ConnectionStrings:Dashboard name it.", e),
        NpgsqlException => new StartUpFailure($"{where} cannot be used: {Reason(e)}.", e),
        _ => null,
    };

    private static async Task OpenAsync(string connectionString, CancellationToken ct)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(settings.ConnectionString);
        await connection.OpenAsync(ct);
    }

    /// <summary>The server's own words, without the SQL state prefix, or the innermost transport error.</summary>
    private static string Reason(Exception e) => e switch
    {
        PostgresException postgres => postgres.MessageText,
        { InnerException: { } inner } => inner.Message,
        _ => e.Message,
    };
}

/// <summary>A start-up that cannot go on, with one line that says why and what to do; the host prints it and exits 1.</summary>
internal sealed class StartUpFailure(string message, Exception? inner = null) : Exception(message, inner);

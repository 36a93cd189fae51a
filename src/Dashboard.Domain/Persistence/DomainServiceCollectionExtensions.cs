using Dashboard.Domain.Auditing;
using Dashboard.Domain.Images;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Maintenance;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.PullSecrets;
using Dashboard.Domain.Import;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Users;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Dashboard.Domain.Persistence;

public static class DomainServiceCollectionExtensions
{
    /// <summary>
    /// Registers the database and the domain services. The services are singletons that open a short-lived
    /// context per call, so a long-lived Blazor circuit never works on a stale one.
    /// </summary>
    public static IServiceCollection AddDashboardDomain(this IServiceCollection services, Action<DbContextOptionsBuilder> configureDatabase)
    {
        // The factory also registers DashboardDbContext as scoped, for ASP.NET Core Identity's stores.
        services.AddSingleton<AuditLogInterceptor>();
        services.AddDbContextFactory<DashboardDbContext>((provider, options) =>
        {
            configureDatabase(options);
            options.AddInterceptors(provider.GetRequiredService<AuditLogInterceptor>());
        });
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IInstanceSignals, SingleInstanceSignals>();
        services.AddSingleton<NamespaceService>();
        services.AddSingleton<ImageStreamService>();
        services.AddSingleton<ImageCatalog>();
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<AccessTokenService>();
        services.AddSingleton<UserAdministration>();
        services.AddSingleton<Pruner>();
        services.AddSingleton<PullSecretService>();
        services.AddSingleton<Registry.Mirrors.MirrorStore>();
        // Pacing is wall-clock work even where schedules are tested with a fake clock.
        services.AddSingleton(provider =>
        {
            var throttle = new RegistryThrottle(TimeProvider.System);
            var settings = provider.GetRequiredService<Scheduling.ScheduleSettings>();
            throttle.Use(settings.BoundsFor);
            return throttle;
        });
        services.AddRegistryClient();
        // Cosign signatures: looked for and verified at import, re-verified from storage when a key changes (decision 0017).
        services.AddOptions<Signatures.SignatureOptions>();
        services.AddSingleton<Signatures.SignatureFinder>();
        services.AddSingleton<Signatures.SignatureChecks>();
        services.AddSingleton<Signatures.TrustedKeyStore>();
        services.AddSingleton<Signatures.SignatureReverification>();
        services.AddSingleton<ImageImporter>();
        // What an import raised, handled in its save: each reaction is one handler.
        services.AddSingleton<ITagImportHandler, ChangeEventRecorder>();
        services.AddSingleton<ITagImportHandler, ImportAudit>();
        services.AddSingleton<ITagImportHandler, ManualImportSchedule>();
        services.AddSingleton<ITagImportHandler, ImageFactsInvalidation>();
        services.AddSingleton<TagImport>();
        services.AddSingleton<RepositoryImporter>();
        // Its queue is the host's job system; alone, the domain runs imports on the thread pool.
        services.AddSingleton<RepositoryImportRuns>();
        services.TryAddSingleton<IRepositoryImportQueue, InProcessRepositoryImportQueue>();
        services.AddSingleton<Scheduling.ImportScheduler>();
        services.AddSingleton<Scheduling.ScheduleQueries>();
        services.AddSingleton<Scheduling.ScheduleSettings>();
        services.AddSingleton<Scheduling.ScheduleActivity>();
        services.TryAddSingleton<Diagnostics.DashboardTelemetry>();
        services.TryAddSingleton<Scheduling.IJobStatistics, Scheduling.NoJobStatistics>();
        services.AddSingleton<Triggers.WebhookService>();
        services.AddSingleton<Triggers.ChangeEventQueries>();
        services.AddSingleton<Policy.PolicyStore>();
        services.AddSingleton<Policy.ImageFacts>();
        services.AddSingleton<Policy.IImageFacts>(provider => provider.GetRequiredService<Policy.ImageFacts>());
        // The host sizes it from Dashboard:Admission:DecisionQueueCapacity.
        services.TryAddSingleton(_ => new Policy.AdmissionDecisionQueue());
        services.AddSingleton<Policy.PolicyEvaluator>();
        services.AddSingleton<Policy.PolicyImpact>();
        services.AddSingleton<Policy.DigestPinning>();
        services.AddSingleton<Policy.AdmissionDecisionLog>();
        services.AddSingleton<Proxy.PullThrough>();
        services.TryAddSingleton<Triggers.IChangeNotifier, Triggers.NoChangeNotifier>();
        return services;
    }

    /// <summary>The assembly that holds the PostgreSQL migrations (column types differ, so each provider has its own set).</summary>
    public const string PostgreSqlMigrationsAssembly = "Dashboard.Migrations.PostgreSql";

    /// <summary>Several instances on one PostgreSQL database.</summary>
    public static DbContextOptionsBuilder UseDashboardPostgreSql(this DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString, npgsql => npgsql.MigrationsAssembly(PostgreSqlMigrationsAssembly));

    /// <summary>The embedded default: one SQLite file.</summary>
    public static DbContextOptionsBuilder UseDashboardSqlite(this DbContextOptionsBuilder options, string databasePath) =>
        options.UseSqlite(SqliteConnectionString(databasePath));

    public static string SqliteConnectionString(string databasePath) =>
        new SqliteConnectionStringBuilder { DataSource = databasePath, Cache = SqliteCacheMode.Default, DefaultTimeout = 30 }.ToString();

    /// <summary>Applies pending migrations; on SQLite also switches the file to write-ahead logging, so readers never wait for a writer.</summary>
    public static async Task MigrateDashboardDatabaseAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync(ct);
        if (db.Database.IsSqlite())
        {
            await db.Database.OpenConnectionAsync(ct);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }

        // EF reads the history table before creating it and logs that failed read as an error on a new database
        // (dotnet/efcore#37328): an operator's first start would show a "fail:" line for nothing. Created first, it is never missing.
        await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(ct);
        await db.Database.MigrateAsync(ct);
    }

    /// <summary>
    /// Start-up work one instance at a time (migrations, the first admin account): on PostgreSQL a session advisory lock
    /// held on a connection of its own until the result is disposed, so instances starting together queue instead of
    /// racing; on SQLite (one instance) nothing to hold.
    /// </summary>
    public static async Task<IAsyncDisposable> StartUpExclusivelyAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        var db = await services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync(ct);
        if (!db.Database.IsNpgsql())
        {
            await db.DisposeAsync();
            return NoLock.Instance;
        }

        await db.Database.OpenConnectionAsync(ct);
        await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_lock({StartUpLockKey})", ct);
        return new AdvisoryLock(db);
    }

    /// <summary>An arbitrary 64-bit key naming the dashboard's start-up lock among any other advisory locks of the database.</summary>
    private const long StartUpLockKey = 0x64617368626f6172;

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class AdvisoryLock(DashboardDbContext db) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({StartUpLockKey})");
            }
            finally
            {
                // Closing the session releases the lock in any case.
                await db.DisposeAsync();
            }
        }
    }
}

using System.Text.Json;
using Dashboard.Domain.Persistence;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Dashboard.Hosting;

internal static class HealthExtensions
{
    private const string Ready = "ready";

    public static void AddHealth(this IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<DatabaseCheck>("database")
            .AddCheck<JobStorageCheck>("hangfire")
            .AddCheck<MigrationsCheck>("migrations", tags: [Ready])
            .AddCheck<JobServerHeartbeatCheck>("job-server", tags: [Ready])
            .AddCheck<CacheDirectoryCheck>("cache", tags: [Ready])
            .AddCheck<DatabaseCheck>("database-reachable", tags: [Ready]);

    /// <summary>
    /// Health, anonymous on purpose (probes and load balancers have no login): <c>/healthz</c> as before (database and
    /// job storage, with detail); <c>/healthz/live</c>, the process answers (Kubernetes' liveness probe);
    /// <c>/healthz/ready</c>, it can do its work: database reachable with every migration applied, a job server's
    /// heartbeat within a minute, the cache directory writable with space left (readiness). Probes get the status only
    /// (200 or 503); admins get each check's detail. Nothing names a secret.
    /// </summary>
    public static void MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = WriteAsync, Predicate = c => !c.Tags.Contains(Ready) })
            .AllowAnonymous();
        app.MapHealthChecks("/healthz/live", new HealthCheckOptions { ResponseWriter = StatusOrDetailAsync, Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { ResponseWriter = StatusOrDetailAsync, Predicate = c => c.Tags.Contains(Ready) })
            .AllowAnonymous();
    }

    /// <summary>The status alone for probes; every check's status and description for an admin.</summary>
    private static Task StatusOrDetailAsync(HttpContext context, HealthReport report)
    {
        if (context.User.IsInRole(Domain.Users.DashboardUser.AdminRole))
        {
            return WriteAsync(context, report);
        }

        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(report.Status.ToString());
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), e.Value.Description }),
        }));
    }

    private sealed class DatabaseCheck(IDbContextFactory<DashboardDbContext> contexts) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            if (!await db.Database.CanConnectAsync(ct))
            {
                return HealthCheckResult.Unhealthy("cannot connect");
            }

            // Reading one row proves the schema is there (it throws, and the check reports unhealthy, when it is not);
            // a full count on every probe would grow with the table.
            await db.Namespaces.AnyAsync(ct);
            return HealthCheckResult.Healthy("reachable");
        }
    }

    private sealed class MigrationsCheck(IDbContextFactory<DashboardDbContext> contexts) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
            return pending.Count == 0
                ? HealthCheckResult.Healthy("every migration applied")
                : HealthCheckResult.Unhealthy($"{pending.Count} migration(s) not applied, first {pending[0]}");
        }
    }

    /// <summary>Some job server of this app (any instance) beat within a minute: scheduled checks and deliveries run.</summary>
    private sealed class JobServerHeartbeatCheck(JobStorage storage, TimeProvider clock) : IHealthCheck
    {
        public static readonly TimeSpan MaxSilence = TimeSpan.FromMinutes(1);

        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
        {
            try
            {
                var latest = storage.GetMonitoringApi().Servers().Max(s => s.Heartbeat);
                var silence = latest is { } beat ? clock.GetUtcNow().UtcDateTime - beat : (TimeSpan?)null;
                return Task.FromResult(silence <= MaxSilence
                    ? HealthCheckResult.Healthy($"last heartbeat {silence.Value.TotalSeconds:0} s ago")
                    : HealthCheckResult.Unhealthy(latest is null ? "no job server has beaten yet" : $"no job server heartbeat for {silence!.Value.TotalSeconds:0} s"));
            }
            catch (Exception e)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy("job storage unreachable: " + e.GetType().Name));
            }
        }
    }

    /// <summary>The pull-through cache can write a file, with at least 1% or 1 GiB of its disk free, whichever is less.</summary>
    internal sealed class CacheDirectoryCheck(Domain.Proxy.BlobCache cache) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
        {
            try
            {
                var probe = Path.Combine(cache.Root, "tmp", $"ready-{Guid.NewGuid():N}");
                File.WriteAllBytes(probe, [1]);
                File.Delete(probe);
                var drive = new DriveInfo(Path.GetFullPath(cache.Root));
                var wanted = Math.Min(drive.TotalSize / 100, 1L << 30);
                return Task.FromResult(drive.AvailableFreeSpace >= wanted
                    ? HealthCheckResult.Healthy($"writable, {drive.AvailableFreeSpace / (1 << 20)} MiB free")
                    : HealthCheckResult.Unhealthy($"only {drive.AvailableFreeSpace / (1 << 20)} MiB free"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy($"the cache directory cannot be written: {e.GetType().Name}"));
            }
        }
    }

    private sealed class JobStorageCheck(JobStorage storage) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
        {
            try
            {
                using var connection = storage.GetConnection();
                var servers = storage.GetMonitoringApi().Servers().Count;
                return Task.FromResult(servers > 0
                    ? HealthCheckResult.Healthy($"{servers} server(s)")
                    : HealthCheckResult.Degraded("no job server is running"));
            }
            catch (Exception e)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy("job storage unreachable: " + e.GetType().Name));
            }
        }
    }
}

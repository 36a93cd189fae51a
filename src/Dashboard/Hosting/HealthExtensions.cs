using System.Text.Json;
using Dashboard.Domain.Persistence;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Dashboard.Hosting;

internal static class HealthExtensions
{
    public static void AddHealth(this IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<DatabaseCheck>("database")
            .AddCheck<JobStorageCheck>("hangfire");

    /// <summary><c>GET /healthz</c>, anonymous on purpose: load balancers and probes have no login. It names no secret.</summary>
    public static void MapHealth(this WebApplication app) =>
        app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = WriteAsync }).AllowAnonymous();

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

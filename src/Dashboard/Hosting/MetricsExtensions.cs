using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Text;
using Dashboard.Domain.Access;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Scheduling;
using Dashboard.Domain.Triggers;
using Microsoft.Extensions.Options;

namespace Dashboard.Hosting;

/// <summary>The <c>Dashboard:Metrics</c> settings.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Dashboard:Metrics";

    /// <summary>
    /// Networks (CIDR) from which <c>/metrics</c> answers without a session, as Prometheus scrapers expect. Unset: loopback
    /// only (a default here would be appended to by the configuration binder, not replaced).
    /// </summary>
    public string[]? AllowedNetworks { get; set; }

    public IReadOnlyList<string> Networks => AllowedNetworks ?? NetworkAllowList.Loopback;

    public bool Allows(IPAddress? address) => NetworkAllowList.Contains(Networks, address);
}

internal static class MetricsExtensions
{
    public static void AddMetrics(this WebApplicationBuilder builder) =>
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section)
            .Validate(o => NetworkAllowList.AreValid(o.Networks), $"{MetricsOptions.Section}:AllowedNetworks holds a value that is not a CIDR network (e.g. 10.0.0.0/8).")
            .ValidateOnStart();

    /// <summary>
    /// <c>GET /metrics</c> in the Prometheus text format: anonymous from the allowed networks (default loopback), else for
    /// signed-in admins only. It carries counts and registry host names, nothing else.
    /// </summary>
    public static void MapMetrics(this WebApplication app) =>
        app.MapGet("/metrics", WriteAsync).AllowAnonymous().ExcludeFromDescription();

    private static async Task<IResult> WriteAsync(HttpContext context, IOptionsMonitor<MetricsOptions> options, ScheduleActivity activity,
        ScheduleQueries queries, RegistryClient registry, WebhookService webhooks, Dashboard.Domain.Proxy.BlobCache cache, CircuitCounter circuits,
        CancellationToken ct)
    {
        var user = context.User;
        if (!options.CurrentValue.Allows(context.Connection.RemoteIpAddress) && !user.IsInRole(Domain.Users.DashboardUser.AdminRole))
        {
            // A plain status, not a redirect to the sign-in page: the callers are scrapers.
            return Results.Problem(statusCode: user.Identity?.IsAuthenticated == true ? 403 : 401,
                detail: "Metrics are served to the networks in Dashboard:Metrics:AllowedNetworks and to admins.");
        }

        var overview = await queries.QueryAsync(Caller.System, new ScheduleQuery(Take: 1), ct);
        var text = new StringBuilder();
        Family(text, "dashboard_schedule_checks_total", "counter", "Scheduled checks finished on this instance since start, by result.");
        foreach (var (result, count) in activity.ChecksByResult.OrderBy(r => r.Key))
        {
            text.Append(CultureInfo.InvariantCulture, $"dashboard_schedule_checks_total{{result=\"{Escape(result)}\"}} {count}\n");
        }

        Family(text, "dashboard_schedule_check_duration_seconds", "histogram", "Duration of scheduled checks on this instance.");
        var (counts, sum) = activity.Durations;
        long cumulative = 0;
        for (var i = 0; i < ScheduleActivity.DurationBuckets.Length; i++)
        {
            cumulative += counts[i];
            text.Append(CultureInfo.InvariantCulture, $"dashboard_schedule_check_duration_seconds_bucket{{le=\"{ScheduleActivity.DurationBuckets[i]}\"}} {cumulative}\n");
        }

        cumulative += counts[^1];
        text.Append(CultureInfo.InvariantCulture, $"dashboard_schedule_check_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}\n");
        text.Append(CultureInfo.InvariantCulture, $"dashboard_schedule_check_duration_seconds_sum {sum}\n");
        text.Append(CultureInfo.InvariantCulture, $"dashboard_schedule_check_duration_seconds_count {cumulative}\n");

        Gauge(text, "dashboard_scheduled_tags", "Tags re-imported on a schedule.", overview.Scheduled);
        Gauge(text, "dashboard_scheduled_tags_failing", "Scheduled tags whose last check failed.", overview.Failing);
        Gauge(text, "dashboard_jobs_queued", "Background jobs waiting in the queues.", overview.Jobs.Queued);
        Gauge(text, "dashboard_job_workers", "Background job workers over all servers.", overview.Jobs.Workers);

        Family(text, "dashboard_registry_paused", "gauge", "1 while scheduled checks leave a rate-limited registry alone.");
        foreach (var paused in registry.PausedRegistries().OrderBy(p => p.Key))
        {
            text.Append(CultureInfo.InvariantCulture, $"dashboard_registry_paused{{registry=\"{Escape(paused.Key)}\"}} 1\n");
        }

        Gauge(text, "dashboard_registries_paused", "Registries paused now.", overview.PausedRegistries.Count);

        var (succeeded, failed) = webhooks.Attempts;
        Family(text, "dashboard_webhook_deliveries_total", "counter", "Webhook delivery attempts on this instance since start, by result.");
        text.Append(CultureInfo.InvariantCulture, $"dashboard_webhook_deliveries_total{{result=\"succeeded\"}} {succeeded}\n");
        text.Append(CultureInfo.InvariantCulture, $"dashboard_webhook_deliveries_total{{result=\"failed\"}} {failed}\n");
        var proxy = cache.Statistics;
        Family(text, "dashboard_proxy_cache_requests_total", "counter", "Pull-through blob requests on this instance since start, by cache result.");
        text.Append(CultureInfo.InvariantCulture, $"dashboard_proxy_cache_requests_total{{result=\"hit\"}} {proxy.Hits}\n");
        text.Append(CultureInfo.InvariantCulture, $"dashboard_proxy_cache_requests_total{{result=\"miss\"}} {proxy.Misses}\n");
        Family(text, "dashboard_proxy_served_bytes_total", "counter", "Blob bytes served by the pull-through endpoint on this instance since start.");
        text.Append(CultureInfo.InvariantCulture, $"dashboard_proxy_served_bytes_total {proxy.BytesServed}\n");
        Family(text, "dashboard_proxy_upstream_errors_total", "counter", "Upstream failures the pull-through endpoint met on this instance since start.");
        text.Append(CultureInfo.InvariantCulture, $"dashboard_proxy_upstream_errors_total {proxy.UpstreamErrors}\n");
        Gauge(text, "dashboard_proxy_cache_bytes", "Bytes in the pull-through blob cache.", proxy.SizeBytes);

        // What a console tab costs (README, "Sizing"): open tabs, the circuits kept after their tab went away, and memory.
        var connected = circuits.Connected;
        Family(text, "dashboard_circuits", "gauge", "Console circuits on this instance: connected (open tabs) and disconnected (kept for a reconnect).");
        text.Append(CultureInfo.InvariantCulture, $"dashboard_circuits{{state=\"connected\"}} {connected}\n");
        text.Append(CultureInfo.InvariantCulture, $"dashboard_circuits{{state=\"disconnected\"}} {Math.Max(0, circuits.Open - connected)}\n");
        Gauge(text, "process_resident_memory_bytes", "Resident memory of this instance's process.", Environment.WorkingSet);
        Gauge(text, "dotnet_gc_heap_bytes", "Managed heap size after the last garbage collection.", GC.GetGCMemoryInfo().HeapSizeBytes);
        return Results.Text(text.ToString(), "text/plain; version=0.0.4; charset=utf-8");
    }

    private static void Family(StringBuilder text, string name, string type, string help) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n");

    private static void Gauge(StringBuilder text, string name, string help, long value)
    {
        Family(text, name, "gauge", help);
        text.Append(CultureInfo.InvariantCulture, $"{name} {value}\n");
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}

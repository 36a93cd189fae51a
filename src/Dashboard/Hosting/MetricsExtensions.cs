using System.Diagnostics.Metrics;
using System.Net;
using Dashboard.Domain.Access;
using Dashboard.Domain.Diagnostics;
using Dashboard.Domain.Policy;
using Dashboard.Domain.Proxy;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Scheduling;
using Dashboard.Domain.Triggers;
using Microsoft.Extensions.Options;
using Prometheus;

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
    public static void AddMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section)
            .Validate(o => NetworkAllowList.AreValid(o.Networks), $"{MetricsOptions.Section}:AllowedNetworks holds a value that is not a CIDR network (e.g. 10.0.0.0/8).")
            .ValidateOnStart();
        builder.Services.AddSingleton<PrometheusMetrics>();
    }

    /// <summary>
    /// <c>GET /metrics</c> in the Prometheus text format: anonymous from the allowed networks (default loopback), else for
    /// signed-in admins only. It carries counts, durations and registry host names, nothing else.
    /// </summary>
    public static void MapMetrics(this WebApplication app)
    {
        // Listening from the start: a histogram's measurements made before the first scrape count too.
        app.Services.GetRequiredService<PrometheusMetrics>();
        app.MapGet("/metrics", WriteAsync).AllowAnonymous().ExcludeFromDescription();
    }

    private static async Task WriteAsync(HttpContext context, IOptionsMonitor<MetricsOptions> options, PrometheusMetrics metrics, CancellationToken ct)
    {
        var user = context.User;
        if (!options.CurrentValue.Allows(context.Connection.RemoteIpAddress) && !user.IsInRole(Domain.Users.DashboardUser.AdminRole))
        {
            // A plain status, not a redirect to the sign-in page: the callers are scrapers.
            await Results.Problem(statusCode: user.Identity?.IsAuthenticated == true ? 403 : 401,
                detail: "Metrics are served to the networks in Dashboard:Metrics:AllowedNetworks and to admins.").ExecuteAsync(context);
            return;
        }

        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await metrics.WriteAsync(context.Response.Body, ct);
    }
}

/// <summary>
/// The instruments of <see cref="DashboardTelemetry.Meter"/> that read the dashboard's state at each scrape, and
/// prometheus-net's bridge from .NET meters to the Prometheus text format (docs/decisions/0012-metrics-and-traces.md):
/// this app's meters (its own and ASP.NET Core's, created through its <see cref="IMeterFactory"/>) and the runtime's.
/// </summary>
internal sealed class PrometheusMetrics : IDisposable
{
    /// <summary>Process-wide meters of the platform worth scraping: GC, CPU and thread pool; outbound HTTP (registries, webhooks).</summary>
    private static readonly HashSet<string> PlatformMeters = ["System.Runtime", "System.Net.Http"];

    private static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly IDisposable _adapter;
    private readonly ScheduleQueries _queries;
    private ScheduleOverview? _overview;

    public PrometheusMetrics(DashboardTelemetry telemetry, IMeterFactory meters, ScheduleActivity activity, ScheduleQueries queries,
        RegistryPauses pauses, WebhookService webhooks, BlobCache cache, CircuitCounter circuits, PolicyEvaluator evaluator,
        AdmissionDecisionQueue decisions)
    {
        _queries = queries;
        var meter = telemetry.Meter;
        meter.CreateObservableCounter("schedule_checks_total",
            () => activity.ChecksByResult.Select(r => new Measurement<long>(r.Value, new KeyValuePair<string, object?>("result", r.Key))),
            description: "Scheduled checks finished on this instance since start, by result.");
        meter.CreateObservableGauge("scheduled_tags", () => _overview?.Scheduled ?? 0, description: "Tags re-imported on a schedule.");
        meter.CreateObservableGauge("scheduled_tags_failing", () => _overview?.Failing ?? 0, description: "Scheduled tags whose last check failed.");
        meter.CreateObservableGauge("jobs_queued", () => _overview?.Jobs.Queued ?? 0, description: "Background jobs waiting in the queues.");
        meter.CreateObservableGauge("job_workers", () => _overview?.Jobs.Workers ?? 0, description: "Background job workers over all servers.");
        meter.CreateObservableGauge("registry_paused",
            () => pauses.PausedRegistries().Select(p => new Measurement<int>(1, new KeyValuePair<string, object?>("registry", p.Key))),
            description: "1 while scheduled checks leave a rate-limited registry alone.");
        meter.CreateObservableGauge("registries_paused", () => pauses.PausedRegistries().Count, description: "Registries paused now.");
        meter.CreateObservableCounter("webhook_deliveries_total", () =>
        {
            var (succeeded, failed) = webhooks.Attempts;
            return new[] { Result(succeeded, "succeeded"), Result(failed, "failed") };
        }, description: "Webhook delivery attempts on this instance since start, by result.");
        meter.CreateObservableCounter("proxy_cache_requests_total", () =>
        {
            var statistics = cache.Statistics;
            return new[] { Result(statistics.Hits, "hit"), Result(statistics.Misses, "miss") };
        }, description: "Pull-through blob requests on this instance since start, by cache result.");
        meter.CreateObservableCounter("proxy_served_bytes_total", () => cache.Statistics.BytesServed, "By",
            "Blob bytes served by the pull-through endpoint on this instance since start.");
        meter.CreateObservableCounter("proxy_upstream_errors_total", () => cache.Statistics.UpstreamErrors,
            description: "Upstream failures the pull-through endpoint met on this instance since start.");
        meter.CreateObservableGauge("proxy_cache_bytes", () => cache.Statistics.SizeBytes, "By", "Bytes in the pull-through blob cache.");
        meter.CreateObservableCounter("admission_reviews_total", () =>
        {
            var (allowed, denied) = evaluator.Reviews;
            return new[] { Label(allowed, "allowed", "true"), Label(denied, "allowed", "false") };
        }, description: "Validating admission reviews answered on this instance since start, by answer.");
        meter.CreateObservableCounter("admission_decisions_dropped_total", () =>
        {
            var (queueFull, writeFailed) = decisions.Dropped;
            return new[] { Label(queueFull, "reason", "queue_full"), Label(writeFailed, "reason", "write_failed") };
        }, description: "Admission decisions answered but not kept for the decisions page on this instance since start, by reason.");
        // What a console tab costs (README, "Sizing"): open tabs, the circuits kept after their tab went away, and memory.
        meter.CreateObservableGauge("circuits", () =>
        {
            var connected = circuits.Connected;
            return new[]
            {
                new Measurement<int>(connected, new KeyValuePair<string, object?>("state", "connected")),
                new Measurement<int>(Math.Max(0, circuits.Open - connected), new KeyValuePair<string, object?>("state", "disconnected")),
            };
        }, description: "Console circuits on this instance: connected (open tabs) and disconnected (kept for a reconnect).");
        meter.CreateObservableGauge("process_resident_memory_bytes", () => Environment.WorkingSet, "By", "Resident memory of this instance's process.");
        meter.CreateObservableGauge("gc_heap_bytes", () => GC.GetGCMemoryInfo().HeapSizeBytes, "By", "Managed heap size after the last garbage collection.");

        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = _registry,
            // The options' factory defaults to the process-wide registry's, which would win over Registry.
            MetricFactory = Metrics.WithCustomRegistry(_registry),
            InstrumentFilterPredicate = instrument =>
                instrument.Meter == meter || instrument.Meter.Scope == meters || PlatformMeters.Contains(instrument.Meter.Name),
            // The adapter forgets a series not measured for this long (a day at most), and a forgotten counter starts again
            // from zero, which Prometheus reads as a restart; the series are few (results, registries, routes): keep them long.
            MetricsExpireAfter = TimeSpan.FromDays(1),
            ResolveHistogramBuckets = instrument =>
                (instrument as Histogram<double>)?.Advice?.HistogramBucketBoundaries?.ToArray() ?? DefaultBuckets,
        });
    }

    /// <summary>Reads what the gauges show from the database, then writes every series.</summary>
    public async Task WriteAsync(Stream body, CancellationToken ct)
    {
        _overview = await _queries.QueryAsync(Caller.System, new ScheduleQuery(Take: 1), ct);
        await _registry.CollectAndExportAsTextAsync(body, ct);
    }

    public void Dispose() => _adapter.Dispose();

    private static Measurement<long> Result(long value, string result) => Label(value, "result", result);

    private static Measurement<long> Label(long value, string label, string text) => new(value, new KeyValuePair<string, object?>(label, text));
}

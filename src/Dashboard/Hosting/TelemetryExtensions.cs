using Dashboard.Domain.Diagnostics;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Dashboard.Hosting;

/// <summary>The <c>Dashboard:Telemetry</c> settings: where traces (and metrics) go over OTLP.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Dashboard:Telemetry";

    /// <summary>The OTLP collector, e.g. <c>http://otel-collector:4317</c>; unset: no traces are made at all.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>grpc</c> (port 4317 by convention) or <c>http/protobuf</c> (port 4318).</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>The <c>service.name</c> the spans and metrics carry.</summary>
    public string ServiceName { get; set; } = "image-stream-dashboard";
}

internal static class TelemetryExtensions
{
    /// <summary>
    /// OpenTelemetry traces when <c>Dashboard:Telemetry:OtlpEndpoint</c> is set: the dashboard's spans (import,
    /// scheduled check, webhook delivery, admission review, pull-through) with ASP.NET Core's server spans above them and
    /// HttpClient's spans (registry and webhook requests) below, and the dashboard's and ASP.NET Core's meters, exported
    /// over OTLP. Probes, scrapes and the console's SignalR traffic make no spans. Unset, nothing listens and a span is
    /// never created.
    /// </summary>
    public static void AddTelemetry(this WebApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (string.IsNullOrWhiteSpace(settings.OtlpEndpoint))
        {
            return;
        }

        if (!Uri.TryCreate(settings.OtlpEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            throw new StartUpFailure($"{TelemetryOptions.Section}:OtlpEndpoint is not an http(s) URL: '{settings.OtlpEndpoint}'.");
        }

        var protocol = settings.OtlpProtocol switch
        {
            "grpc" => OtlpExportProtocol.Grpc,
            "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            _ => throw new StartUpFailure($"{TelemetryOptions.Section}:OtlpProtocol is 'grpc' or 'http/protobuf', not '{settings.OtlpProtocol}'."),
        };
        void Otlp(OtlpExporterOptions options, string signal)
        {
            // With http/protobuf the endpoint is the collector's base address: each signal has its own path under it.
            options.Endpoint = protocol == OtlpExportProtocol.HttpProtobuf ? new Uri(endpoint, signal) : endpoint;
            options.Protocol = protocol;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(settings.ServiceName))
            .WithTracing(tracing => tracing
                .AddSource(DashboardTelemetry.Name)
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsNoise(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddOtlpExporter(options => Otlp(options, "v1/traces")))
            .WithMetrics(metrics => metrics
                .AddMeter(DashboardTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddMeter("System.Runtime")
                .AddOtlpExporter(options => Otlp(options, "v1/metrics")));
    }

    private static bool IsNoise(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/metrics") || path.StartsWithSegments("/_blazor")
        || path.StartsWithSegments("/_framework") || path.StartsWithSegments("/_content");
}

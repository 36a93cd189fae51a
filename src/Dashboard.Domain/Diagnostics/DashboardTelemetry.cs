using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Dashboard.Domain.Diagnostics;

/// <summary>
/// The dashboard's own spans and instruments, on the platform's <see cref="ActivitySource"/> and <see cref="Meter"/>:
/// exporters (Prometheus at <c>/metrics</c>, OTLP when configured) subscribe to them by <see cref="Name"/>; without a
/// subscriber a span is never created and a measurement costs a few nanoseconds.
/// </summary>
public sealed class DashboardTelemetry : IDisposable
{
    public const string Name = "Dashboard";

    /// <summary>Spans of imports, scheduled checks, webhook deliveries, admission reviews and pull-through requests.</summary>
    public static readonly ActivitySource Source = new(Name);

    /// <summary>Upper bounds (seconds) of the scheduled check duration histogram.</summary>
    public static readonly double[] CheckDurationBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    /// <param name="meters">The host's meter factory, so each app (and each test's app) has meters of its own; none: a meter of this instance.</param>
    public DashboardTelemetry(IMeterFactory? meters = null)
    {
        Meter = meters?.Create(Name) ?? new Meter(Name);
        CheckDuration = Meter.CreateHistogram("schedule_check_duration_seconds", "s", "Duration of scheduled checks on this instance.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CheckDurationBuckets });
    }

    public Meter Meter { get; }

    public Histogram<double> CheckDuration { get; }

    public void Dispose() => Meter.Dispose();
}

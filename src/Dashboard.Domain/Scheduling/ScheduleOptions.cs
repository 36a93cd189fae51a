using System.ComponentModel.DataAnnotations;

namespace Dashboard.Domain.Scheduling;

/// <summary>
/// How scheduled re-import runs (section <c>Dashboard:Import</c>, beside the repository import bounds), after
/// OpenShift's <c>scheduledImageImportMinimumIntervalSeconds</c>, <c>maxScheduledImageImportsPerMinute</c> and
/// <c>disableScheduledImport</c>.
/// </summary>
public sealed class ScheduleOptions
{
    public const string Section = "Dashboard:Import";

    /// <summary>How often a scheduled tag is checked when it does not ask for another interval.</summary>
    [Range(1, 31_536_000)]
    public int DefaultIntervalSeconds { get; set; } = 900;

    /// <summary>No tag is checked more often than this, whatever it asks for.</summary>
    [Range(1, 31_536_000)]
    public int MinimumIntervalSeconds { get; set; } = 900;

    /// <summary>Checks started per minute over all tags; -1 for no limit.</summary>
    [Range(-1, 1_000_000)]
    public int MaxImportsPerMinute { get; set; } = 60;

    /// <summary>Stops scheduled checks; manual imports still work.</summary>
    public bool Disabled { get; set; }

    /// <summary>How often the scheduler looks for due tags.</summary>
    [Range(1, 3600)]
    public int TickSeconds { get; set; } = 60;

    /// <summary>
    /// How long a queued check may take before a later tick queues it again, so the work of an instance that died is not
    /// lost (settings file only). Shorter recovers sooner; a check that outlives it may run twice, which adds nothing twice.
    /// </summary>
    [Range(10, 86_400)]
    public int LeaseSeconds { get; set; } = 600;

    /// <summary>Requests in flight to one registry host at a time, from every kind of import on this instance.</summary>
    [Range(1, 256)]
    public int RegistryConcurrency { get; set; } = 4;

    /// <summary>Requests started per second to one registry host; 0 for no bound.</summary>
    [Range(0, 10_000)]
    public double RegistryRequestsPerSecond { get; set; } = 20;

    /// <summary>Other bounds for named registry hosts (<c>host[:port]</c> as in image references, e.g. <c>docker.io</c>).</summary>
    public List<RegistryOverride> RegistryOverrides { get; set; } = [];

    /// <summary>The bounds that apply to <paramref name="registry"/>: its override's, else the general ones.</summary>
    public Registry.RegistryBounds BoundsFor(string registry)
    {
        var own = RegistryOverrides.FirstOrDefault(o => string.Equals(o.Host, registry, StringComparison.OrdinalIgnoreCase));
        return new(own?.Concurrency ?? RegistryConcurrency, own?.RequestsPerSecond ?? RegistryRequestsPerSecond);
    }
}

/// <summary>A registry host's own bounds; a missing value keeps the general one.</summary>
public sealed class RegistryOverride
{
    public string Host { get; set; } = "";

    public int? Concurrency { get; set; }

    public double? RequestsPerSecond { get; set; }
}

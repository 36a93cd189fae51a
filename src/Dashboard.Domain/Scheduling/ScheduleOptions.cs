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
}
